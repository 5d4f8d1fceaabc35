"""The Z-calculus of tensor programs by recursion on the program, in polynomial time.

Rules (Yang, Tensor Programs I-III, 2019-2020; theory facts §4.2), for a matrix W with
multiplier m (m = sigma^2 for W, and v d_in for a non-square one):

    ZMatMul  Z^{W y} = Zhat^{W y} + Zdot^{W y},
    ZHat     Cov(Zhat^{W y}, Zhat^{W y'}) = m E[Z^y Z^{y'}] within one orientation (W and W^T are
             two); independent across orientations and of the initial vectors,
    ZDot     Zdot^{W y} = m sum_{x : W^T x earlier} Z^x E[dZ^y / dZhat^{W^T x}],
    ZNonlin  Z^{phi(x, ...)} = phi(Z^x, ...).

:mod:`tpcheck.engines.netsor` writes every Z as a sympy expression in the base Gaussians (the initial
vectors and one Zhat per MatMul). Here nothing is expanded into the base Gaussians beyond one
row of coefficients per Gaussian vector:

- *Atoms* are the vectors whose Z is a linear form in the base Gaussians (initial vectors,
  LinCombs of atoms, MatMuls whose Zdot is a combination of atoms) and the Zhat of the other
  MatMuls. For atoms the engine keeps the second moments G[u, v] = E[Z^u Z^v], the means and
  the coefficient row C[u, b] = dZ^u/d(base b), and extends them by the recursions
      LinComb u = sum_i c_i x_i:        G[u, v] = sum_i c_i G[x_i, v],  C[u] = sum_i c_i C[x_i],
      MatMul u = W y, Z^u = Zhat_u + sum_s d_s Z^{x_s}:
          G[u, v] = E[Zhat_u Z^v] + sum_s d_s G[x_s, v],
          E[Zhat_u Z^v] = sum_{u' same orientation} C[v, hat_u'] m E[Z^y Z^{y_u'}],
          C[u] = e_{hat_u} + sum_s d_s C[x_s],
  O(N N_o) exact ring operations per MatMul (N vectors, N_o MatMuls of one orientation), so
  (1/n) x^T W^(2k) x for k = 30 is a 180-vector program done in well under a second.
- The *Zdot coefficients* d_s = m E[dZ^y / dZhat^{W^T x_s}] come from the same rows: for an
  atom y, d_s = m C[y, hat_s]; for a polynomial y = P(atoms), by the chain rule
  d_s = m sum_a C[a, hat_s] E[dP/da].
- Vectors with polynomial nonlinearities are polynomials over atoms (never over the base
  Gaussians); their expectations are Isserlis moments of the atoms, whose covariance is
  G - mean mean^T (Stein's recursion E[X_i f] = mu_i E[f] + sum_j C_ij E[d_j f], exact).

All arithmetic is exact in the ring sympy's ``construct_domain`` builds from the program's
constants: QQ, QQ[lambda, sigma2, ...] for symbolic parameters, QQ<sqrt(2)> for
W = (A + A^T)/sqrt(2). Only ring operations occur (no division), so a polynomial ring is enough.

:func:`derive_power_iteration_recurrence` applies the ZMatMul/ZDot rules to x^{k+1} = W x^k
for a symbolic k and returns the recurrences the Zdot coefficients and the moments satisfy
(for W = (A + A^T)/sqrt(2): the Catalan recursion; in general M(n) = (kappa/v) sum M(n-2-i) M(i)),
see its docstring for what is derived and what is assumed; :func:`catalan_solution` solves the
closed recurrence (M(2m) = v kappa^m C_m, M(2m + 1) = 0) and checks the solution symbolically.
The rule ``zdot_recursion`` holds the base cases against the concrete program.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from sympy.polys.constructor import construct_domain
from sympy.polys.domains import QQ

from tpcheck.trusted import rests_on

Monomial = tuple[tuple[int, int], ...]  # sorted ((atom, exponent), ...)
Polynomial = dict[Monomial, Any]  # monomial -> coefficient in the domain


class ZCalculusError(ValueError):
    """A program outside this engine's fragment (non-polynomial nonlinearity, unknown name)."""


@dataclass
class _Orientation:
    multiplier: Any
    hats: list[int] = field(default_factory=list)  # base indices of its Zhat's
    inputs: list[str] = field(default_factory=list)  # the vector each Zhat multiplies


class ZCalculus:
    """Incremental exact Z-calculus (see the module docstring for the recursions).

    Build with :meth:`initial`, :meth:`matmul`, :meth:`lincomb`, :meth:`nonlin`, or from a
    program with :func:`z_calculus_of_program`; read :meth:`second_moment`, :meth:`zdot`,
    :meth:`hat_covariance` and :meth:`expect`."""

    def __init__(self, domain: Any = QQ, capacity: int = 64) -> None:
        self.domain = domain
        self._zero, self._one = domain.zero, domain.one
        cap = max(capacity, 4)
        self._g = np.full((cap, cap), self._zero, dtype=object)  # E[Z^a Z^b] of atoms
        self._c = np.full((cap, cap), self._zero, dtype=object)  # dZ^a / d base
        self._mean: list[Any] = []
        self._atoms = 0
        self._base = 0
        self._base_of_initial: dict[str, int] = {}
        self._initial_moments: dict[tuple[str, str], Any] = {}
        self._orientations: dict[tuple[str, bool], _Orientation] = {}
        self._hat_cov: dict[tuple[int, int], Any] = {}
        self._atom_of: dict[str, int] = {}  # Gaussian vectors
        self._poly_of: dict[str, Polynomial] = {}  # polynomial vectors
        self._zdot: dict[str, dict[str, Any]] = {}
        self._hat_of: dict[str, int] = {}
        self.names: list[str] = []

    # ---- storage ------------------------------------------------------------------------

    def _grow(self, atoms: int, base: int) -> None:
        n, b = self._g.shape[0], self._c.shape[1]
        if atoms > n:
            new = max(atoms, 2 * n)
            g = np.full((new, new), self._zero, dtype=object)
            g[:n, :n] = self._g
            self._g = g
            c = np.full((new, self._c.shape[1]), self._zero, dtype=object)
            c[:n] = self._c
            self._c = c
        if base > b:
            new = max(base, 2 * b)
            c = np.full((self._c.shape[0], new), self._zero, dtype=object)
            c[:, :b] = self._c
            self._c = c

    def _new_atom(self, row_g: np.ndarray, diag: Any, row_c: np.ndarray, mean: Any) -> int:
        a = self._atoms
        self._grow(a + 1, self._base)
        self._g[a, :a] = row_g
        self._g[:a, a] = row_g
        self._g[a, a] = diag
        self._c[a, :row_c.shape[0]] = row_c
        self._mean.append(mean)
        self._atoms += 1
        return a

    def _new_base(self) -> int:
        self._grow(self._atoms, self._base + 1)
        self._base += 1
        return self._base - 1

    def _declare(self, name: str) -> None:
        if name in self._atom_of or name in self._poly_of:
            raise ZCalculusError(f"z-calculus: '{name}' is defined twice")
        self.names.append(name)

    def _dot(self, coeffs: Sequence[Any], rows: np.ndarray) -> np.ndarray:
        """sum_i coeffs[i] rows[i] (rows: (len, width) object array) in the domain."""
        out = np.full(rows.shape[1] if rows.ndim == 2 else 0, self._zero, dtype=object)
        for c, row in zip(coeffs, rows, strict=True):
            if c:
                out = out + row * c
        return out

    # ---- instructions -------------------------------------------------------------------

    def initial(self, name: str, second_moments: dict[str, Any] | None = None, mean: Any = 0) -> None:
        """ZInit: an initial vector with E[Z^name Z^other] for itself and earlier initial vectors
        (``second_moments``; absent pairs are 0) and mean E[Z^name]."""
        self._declare(name)
        moments = {k: self._convert(v) for k, v in (second_moments or {}).items()}
        h = self._new_base()
        self._base_of_initial[name] = h
        for other, value in moments.items():
            self._initial_moments[(name, other)] = self._initial_moments[(other, name)] = value
        n = self._atoms
        # E[g Z^v] = sum_{g'} C[v, g'] E[g g'] over the earlier initial vectors g'
        row = np.full(n, self._zero, dtype=object)
        for other, hb in self._base_of_initial.items():
            value = moments.get(other, self._zero) if other != name else self._zero
            if value and n:
                row = row + self._c[:n, hb] * value
        c_row = np.full(h + 1, self._zero, dtype=object)
        c_row[h] = self._one
        self._atom_of[name] = self._new_atom(row, moments.get(name, self._zero), c_row,
                                             self._convert(mean))

    def lincomb(self, name: str, terms: dict[str, Any]) -> None:
        """ZLinComb: Z^name = sum_i c_i Z^{x_i}."""
        self._declare(name)
        coeffs = {x: self._convert(c) for x, c in terms.items()}
        if all(x in self._atom_of for x in coeffs):
            self._atom_of[name] = self._lincomb_atom({self._atom_of[x]: c for x, c in coeffs.items()})
        else:
            self._poly_of[name] = _poly_sum([_poly_scale(self._poly(x), c) for x, c in coeffs.items()])

    def _lincomb_atom(self, coeffs: dict[int, Any], hat: int | None = None,
                      hat_row: np.ndarray | None = None, hat_var: Any = None) -> int:
        """A new atom sum_a c_a Z^a (+ Zhat with base index ``hat``, E[Zhat Z^v] = hat_row,
        Var = hat_var): its second-moment row, diagonal, coefficient row and mean."""
        n = self._atoms
        idx = list(coeffs)
        cs = [coeffs[a] for a in idx]
        row = self._dot(cs, self._g[idx, :n]) if idx else np.full(n, self._zero, dtype=object)
        c_row = self._dot(cs, self._c[idx, :self._base]) if idx else np.full(self._base, self._zero,
                                                                             dtype=object)
        mean = sum((c * self._mean[a] for a, c in coeffs.items()), self._zero)
        diag = sum((c * row[a] for a, c in coeffs.items()), self._zero)
        if hat is not None:
            row = row + hat_row
            c_row = c_row.copy()
            c_row[hat] += self._one
            # E[(Zhat + S)^2] = Var Zhat + 2 E[Zhat S] + E[S^2]
            diag += hat_var + 2 * sum((c * hat_row[a] for a, c in coeffs.items()), self._zero)
        return self._new_atom(row, diag, c_row, mean)

    def matmul(self, name: str, matrix: str, x: str, transpose: bool, multiplier: Any) -> None:
        """ZMatMul = ZHat + ZDot for name = W x (W^T x if ``transpose``); ``multiplier`` is the
        variance times the summed dimension (sigma^2 for a square matrix)."""
        self._declare(name)
        orient = (matrix, bool(transpose))
        m = self._convert(multiplier)
        o = self._orientations.setdefault(orient, _Orientation(m))
        if o.multiplier != m:
            raise ZCalculusError(f"z-calculus: '{matrix}' used with two multipliers")
        opposite = self._orientations.get((matrix, not transpose))
        # ZDot: d_s = m E[dZ^x / dZhat_s] over the Zhat's of the other orientation
        zdot: dict[str, Any] = {}
        if opposite is not None and opposite.hats:
            grads = self._expected_gradient(x, opposite.hats)
            for x_s, grad in zip(opposite.inputs, grads, strict=True):
                if grad:
                    zdot[x_s] = zdot.get(x_s, self._zero) + m * grad
        self._zdot[name] = zdot
        # ZHat: Cov(Zhat_u, Zhat_s) = m E[Z^x Z^{x_s}] within the orientation
        hat = self._new_base()
        self._hat_of[name] = hat
        var = m * self._second_moment(x, x)
        self._hat_cov[(hat, hat)] = var
        cov_same = []
        for hat_s, x_s in zip(o.hats, o.inputs, strict=True):
            c = m * self._second_moment(x, x_s)
            self._hat_cov[(hat, hat_s)] = self._hat_cov[(hat_s, hat)] = c
            cov_same.append(c)
        n = self._atoms
        hat_row = np.full(n, self._zero, dtype=object)
        for hat_s, c in zip(o.hats, cov_same, strict=True):
            if c and n:
                hat_row = hat_row + self._c[:n, hat_s] * c
        o.hats.append(hat)
        o.inputs.append(x)
        if all(x_s in self._atom_of for x_s in zdot):
            self._atom_of[name] = self._lincomb_atom({self._atom_of[x_s]: d for x_s, d in zdot.items()},
                                                     hat, hat_row, var)
            return
        hat_atom = self._lincomb_atom({}, hat, hat_row, var)
        parts = [{((hat_atom, 1),): self._one}] + [_poly_scale(self._poly(x_s), d) for x_s, d in zdot.items()]
        self._poly_of[name] = _poly_sum(parts)

    def nonlin(self, name: str, phi: sympy.Expr, inputs: Sequence[str],
               scalars: dict[sympy.Symbol, Any] | None = None) -> None:
        """ZNonlin for a polynomial phi (a sympy expression in Symbol(input), possibly with earlier
        scalars given their limits in ``scalars``): Z^name = phi(Z^{inputs})."""
        table = dict(scalars or {})
        gens = []
        for x in inputs:
            gens.append(sympy.Symbol(x, real=True))
            table.setdefault(sympy.Symbol(x), sympy.Symbol(x, real=True))
        expr = sympy.expand(phi.xreplace(table))
        if not expr.is_polynomial(*gens) or expr.free_symbols - set(gens):
            raise ZCalculusError(f"z-calculus: the nonlinearity of '{name}' is not a polynomial "
                                 f"in {list(inputs)}: {phi}")
        poly = sympy.Poly(expr, *gens) if gens else sympy.Poly(expr, sympy.Dummy())
        linear = gens and poly.is_linear and poly.coeff_monomial(1) == 0
        if linear and all(x in self._atom_of for x in inputs):
            self.lincomb(name, {x: poly.coeff_monomial(g) for x, g in zip(inputs, gens, strict=True)})
            return
        self._declare(name)
        input_polys = [self._poly(x) for x in inputs]
        total: Polynomial = {}
        for monom, coeff in poly.terms():
            term: Polynomial = {(): self._convert(coeff)}
            for p, e in zip(input_polys, monom, strict=False):
                for _ in range(e):
                    term = _poly_mul(term, p)
            total = _poly_sum([total, term])
        self._poly_of[name] = total

    # ---- reading ------------------------------------------------------------------------

    def _convert(self, x: Any) -> Any:
        if isinstance(x, int):
            return self.domain(x) if x else self._zero
        try:
            return self.domain.convert(x)
        except Exception:  # noqa: BLE001 -- sympy raises several types; say which value
            return self.domain.from_sympy(sympy.sympify(x))

    def _poly(self, x: str) -> Polynomial:
        if x in self._atom_of:
            return {((self._atom_of[x], 1),): self._one}
        if x in self._poly_of:
            return self._poly_of[x]
        raise ZCalculusError(f"z-calculus: vector '{x}' is used before it is defined")

    def _second_moment(self, x: str, y: str) -> Any:
        if x in self._atom_of and y in self._atom_of:
            return self._g[self._atom_of[x], self._atom_of[y]]
        return self._expect_poly(_poly_mul(self._poly(x), self._poly(y)))

    def _expected_gradient(self, x: str, hats: list[int]) -> list[Any]:
        """E[dZ^x / d(base hat)] for each hat: C[x, hat] for an atom; for a polynomial
        P(atoms), sum_a C[a, hat] E[dP/da] (chain rule)."""
        if x in self._atom_of:
            a = self._atom_of[x]
            return [self._c[a, h] for h in hats]
        p = self._poly(x)
        atoms = sorted({a for monom in p for a, _ in monom})
        grads = {a: self._expect_poly(_poly_diff(p, a)) for a in atoms}
        return [sum((self._c[a, h] * grads[a] for a in atoms if grads[a]), self._zero) for h in hats]

    def _expect_poly(self, p: Polynomial) -> Any:
        total = self._zero
        for monom, coeff in p.items():
            total += coeff * self._expect_monomial(monom)
        return total

    def _expect_monomial(self, monom: Monomial) -> Any:
        """E[prod_a (Z^a)^e_a] for jointly Gaussian atoms with covariance G - mean mean^T, by
        Stein's recursion E[X_i f(X)] = mu_i E[f] + sum_j Cov_ij E[d_j f] (Isserlis 1918)."""
        if not monom:
            return self._one
        atoms = [a for a, _ in monom]
        mean = [self._mean[a] for a in atoms]
        cov = [[self._g[a, b] - self._mean[a] * self._mean[b] for b in atoms] for a in atoms]
        memo: dict[tuple[int, ...], Any] = {}

        def moment(e: tuple[int, ...]) -> Any:
            if not any(e):
                return self._one
            if e in memo:
                return memo[e]
            i = next(j for j, x in enumerate(e) if x)
            rest = list(e)
            rest[i] -= 1
            total = mean[i] * moment(tuple(rest)) if mean[i] else self._zero
            for j, r in enumerate(rest):
                if r and cov[i][j]:
                    lower = list(rest)
                    lower[j] -= 1
                    total += cov[i][j] * r * moment(tuple(lower))
            memo[e] = total
            return total

        return moment(tuple(e for _, e in monom))

    def second_moment(self, x: str, y: str) -> sympy.Expr:
        """lim (1/n) x . y = E[Z^x Z^y] (Master Theorem)."""
        return self.domain.to_sympy(self._second_moment(x, y))

    def zdot(self, name: str) -> dict[str, sympy.Expr]:
        """The ZDot of a MatMul vector as {x: d} with Zdot^name = sum_x d Z^x."""
        return {x: self.domain.to_sympy(d) for x, d in self._zdot[name].items()}

    def hat_covariance(self, a: str, b: str) -> sympy.Expr:
        """Cov(Zhat^a, Zhat^b) of two MatMul vectors (0 across orientations)."""
        ha, hb = self._hat_base(a), self._hat_base(b)
        return self.domain.to_sympy(self._hat_cov.get((ha, hb), self._zero))

    def _hat_base(self, name: str) -> int:
        if name not in self._hat_of:
            raise ZCalculusError(f"z-calculus: '{name}' is not a MatMul vector")
        return self._hat_of[name]

    def expect(self, psi: sympy.Expr, inputs: Sequence[str]) -> sympy.Expr:
        """E[psi(Z^{inputs})] for a polynomial psi in Symbol(input): the Master Theorem limit of
        (1/n) sum_alpha psi(h^1_alpha, ...)."""
        rests_on("isserlis")  # the Gaussian moments of the polynomial, by Isserlis' theorem
        gens = [sympy.Symbol(x, real=True) for x in inputs]
        expr = sympy.expand(psi.xreplace({sympy.Symbol(x): g for x, g in zip(inputs, gens, strict=True)}))
        if not expr.is_polynomial(*gens) or expr.free_symbols - set(gens):
            raise ZCalculusError(f"z-calculus: {psi} is not a polynomial in {list(inputs)}")
        poly = sympy.Poly(expr, *gens)
        total = self._zero
        polys = [self._poly(x) for x in inputs]
        for monom, coeff in poly.terms():
            term: Polynomial = {(): self._convert(coeff)}
            for p, e in zip(polys, monom, strict=True):
                for _ in range(e):
                    term = _poly_mul(term, p)
            total += self._expect_poly(term)
        return self.domain.to_sympy(total)

    def is_gaussian(self, name: str) -> bool:
        """Whether Z^name is a linear form in the base Gaussians (an atom)."""
        return name in self._atom_of


# ---- sparse polynomials over atoms ------------------------------------------------------------


def _poly_sum(parts: Iterable[Polynomial]) -> Polynomial:
    out: Polynomial = {}
    for p in parts:
        for m, c in p.items():
            v = out.get(m)
            v = c if v is None else v + c
            if v:
                out[m] = v
            else:
                out.pop(m, None)
    return out


def _poly_scale(p: Polynomial, c: Any) -> Polynomial:
    return {m: c * v for m, v in p.items()} if c else {}


def _poly_mul(p: Polynomial, q: Polynomial) -> Polynomial:
    out: Polynomial = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            exps = dict(m1)
            for a, e in m2:
                exps[a] = exps.get(a, 0) + e
            m = tuple(sorted(exps.items()))
            v = out.get(m)
            out[m] = c1 * c2 if v is None else v + c1 * c2
    return {m: v for m, v in out.items() if v}


def _poly_diff(p: Polynomial, atom: int) -> Polynomial:
    out: Polynomial = {}
    for m, c in p.items():
        exps = dict(m)
        e = exps.get(atom, 0)
        if not e:
            continue
        if e == 1:
            del exps[atom]
        else:
            exps[atom] = e - 1
        key = tuple(sorted(exps.items()))
        out[key] = out.get(key, 0) + c * e
    return {m: v for m, v in out.items() if v}


# ---- from a program -------------------------------------------------------------------------


def program_domain(program: Any) -> Any:
    """The ring of the program's constants: sympy's ``construct_domain`` (with algebraic
    extensions) over the multipliers, LinComb coefficients, initial moments and polynomial
    coefficients."""
    consts: list[sympy.Expr] = [sympy.Integer(1)]
    for v, tv in program.matrices.values():
        consts += [sympy.sympify(v), sympy.sympify(tv)]
    consts += [sympy.sympify(c) for c in program.initial_cov.values()]
    consts += [sympy.sympify(c) for c in program.initial_mean.values()]
    scalars = {sympy.Symbol(s) for s in getattr(program, "scalars", [])}
    scalars |= {sympy.Symbol(s, real=True) for s in getattr(program, "scalars", [])}
    for ins in program.instructions:
        if ins.kind == "lincomb":
            consts += [sympy.sympify(c) for _, c in ins.args]
        elif ins.kind in ("nonlin", "moment"):
            phi, inputs = ins.args
            gens = [sympy.Symbol(x, real=True) for x in inputs]
            expr = sympy.expand(phi.xreplace({sympy.Symbol(x): g for x, g in zip(inputs, gens, strict=True)}))
            if gens and expr.is_polynomial(*gens):
                consts += [c for c in sympy.Poly(expr, *gens).coeffs() if not c.free_symbols & scalars]
    domain, _ = construct_domain(consts, extension=True)
    return domain


def z_calculus_of_program(program: Any, domain: Any = None) -> ZCalculus:
    """Run the engine on a program with the attributes of ``tpcheck.engines.netsor.Program``
    (``instructions`` of kinds initial/matmul/lincomb/nonlin/moment, ``matrices`` name ->
    (multiplier of W, multiplier of W^T), ``initial_cov``, ``initial_mean``)."""
    domain = program_domain(program) if domain is None else domain
    z = ZCalculus(domain, capacity=len(program.instructions) + 4)
    initial = [ins.out for ins in program.instructions if ins.kind == "initial"]
    scalars: dict[sympy.Symbol, Any] = {}
    for ins in program.instructions:
        if ins.kind == "initial":
            name = ins.out
            mean = sympy.sympify(program.initial_mean.get(name, 0))
            moments = {}
            for other in initial[:initial.index(name) + 1]:
                cov = sympy.sympify(program.initial_cov.get((name, other), 0))
                other_mean = sympy.sympify(program.initial_mean.get(other, 0))
                moments[other] = sympy.expand(cov + mean * other_mean)
            z.initial(name, moments, mean)
        elif ins.kind == "lincomb":
            z.lincomb(ins.out, dict(ins.args))
        elif ins.kind == "matmul":
            matrix, x, transpose = ins.args
            forward, backward = program.matrices[matrix]
            z.matmul(ins.out, matrix, x, transpose, backward if transpose else forward)
        elif ins.kind == "nonlin":
            phi, inputs = ins.args
            z.nonlin(ins.out, phi, list(inputs), scalars)
        elif ins.kind == "moment":
            psi, inputs = ins.args
            value = z.expect(psi.xreplace(scalars), list(inputs))
            scalars[sympy.Symbol(ins.out)] = scalars[sympy.Symbol(ins.out, real=True)] = value
        else:
            raise ZCalculusError(f"z-calculus: unknown instruction kind '{ins.kind}'")
    return z


# ---- power iterations: programs and the all-k derivation ------------------------------------


def power_iteration(k: int, orientations: Sequence[tuple[bool, Any]], multipliers: tuple[Any, Any] = (1, 1),
                    domain: Any = QQ) -> tuple[ZCalculus, list[str]]:
    """The program x^0 = x ~ N(0, 1), x^{j+1} = sum_o c_o M_o x^j (M_o = A, or A^T when the flag
    is set), for j < k; returns the engine and the names x^0..x^k. Semicircle:
    orientations ((False, 1), (True, 1)) and multipliers (1/2, 1/2) (A + A^T with entries of
    variance 1/(2n): GOE/sqrt(n), rational coefficients), or coefficients 1/sqrt(2) with
    multipliers (1, 1) over QQ<sqrt(2)>."""
    z = ZCalculus(domain, capacity=(len(orientations) + 1) * k + 4)
    z.initial("x0", {"x0": 1})
    names = ["x0"]
    for j in range(k):
        terms = {}
        for i, (transpose, c) in enumerate(orientations):
            out = f"m{j}_{i}"
            z.matmul(out, "A", names[-1], transpose, multipliers[1] if transpose else multipliers[0])
            terms[out] = c
        z.lincomb(f"x{j + 1}", terms)
        names.append(f"x{j + 1}")
    return z, names


def marchenko_pastur_iteration(k: int, ratio: Any, domain: Any = None) -> tuple[ZCalculus, list[str]]:
    """A n x m with entries N(0, 1/m), lambda = n/m (theory facts §4.5): y^j = A^T x^j
    (multiplier lambda), x^{j+1} = A y^j (multiplier 1); E[Z^{x^0} Z^{x^j}] are the
    Marchenko-Pastur moments sum_r N(j, r) lambda^(r - 1) (Narayana numbers)."""
    if domain is None:
        domain, _ = construct_domain([sympy.sympify(ratio), sympy.Integer(1)])
    z = ZCalculus(domain, capacity=2 * k + 4)
    z.initial("x0", {"x0": 1})
    names = ["x0"]
    for j in range(k):
        z.matmul(f"y{j}", "A", names[-1], True, ratio)
        z.matmul(f"x{j + 1}", "A", f"y{j}", False, 1)
        names.append(f"x{j + 1}")
    return z, names


@dataclass(frozen=True)
class PowerRecurrence:
    """What the Z rules give for x^{j+1} = W x^j, W = sum_o c_o M_o, at a symbolic step.

    ``zdot_coefficient``: Eq(f(d), ...) -- Z^{x^{k+1}} = sum_o c_o Zhat^o_k
    + sum_{i<k} f(k - i) Z^{x^i}; ``derivative``: Eq(T(d), ...) -- the Zdot input
    dZ^{x^j}/dZhat^o_i = c_o T(j - i); ``moment``: Eq(M(n), ...) -- M(n) = E[Z^{x^0} Z^{x^n}];
    ``closed``: the moment recurrence with T and f eliminated (None if the elimination does
    not apply); ``base``: the initial values; ``kappa``: f = kappa T; ``initial``: M(0)."""

    zdot_coefficient: sympy.Eq
    derivative: sympy.Eq
    moment: sympy.Eq
    closed: sympy.Eq | None
    base: dict[sympy.Expr, sympy.Expr]
    kappa: sympy.Expr
    assumptions: tuple[str, ...]
    initial: sympy.Expr = sympy.Integer(1)


def derive_power_iteration_recurrence(orientations: Sequence[tuple[bool, Any]],
                                      multipliers: tuple[Any, Any] = (1, 1),
                                      initial_second_moment: Any = 1) -> PowerRecurrence:
    """Apply ZMatMul/ZDot/ZLinComb to x^{k+1} = sum_o c_o M_o x^k at a symbolic step k.

    ``orientations``: (transpose, c_o) with each orientation at most once; ``multipliers``: m_o
    of A and of A^T; ``initial_second_moment``: v = E[(Z^{x^0})^2].
    Induction hypothesis (for all j <= k; at j = 0, 1 it is the rules applied directly):
        (H1)  Z^{x^j} = [j >= 1] sum_o c_o Zhat^o_{j-1} + sum_{i=0}^{j-2} f(j-1-i) Z^{x^i},
        (H2)  dZ^{x^j}/dZhat^o_i = c_o T(j - i) for i < j, and 0 for i >= j.
    Step, done below with sympy (no Catalan numbers are put in). ZDot for orientation o at
    step k, with (H2) for j = k:
        Zdot^o_k = m_o sum_{i<=k} Z^{x^i} dZ^{x^k}/dZhat^{o'}_i = m_o c_{o'} sum_{i<k} T(k-i) Z^{x^i}
    (o' the transposed orientation; 0 if the program does not use it), so by ZLinComb
        Z^{x^{k+1}} = sum_o c_o Zhat^o_k + kappa sum_{i<k} T(k - i) Z^{x^i},  kappa = sum_o c_o c_{o'} m_o,
    which is (H1) at k + 1 exactly when f(d) = kappa T(d). The chain rule on (H1) at k + 1
    (through the earlier Z^{x^l}, with (H2) for l <= k) gives
        dZ^{x^{k+1}}/dZhat^o_i = c_o ([i = k] + sum_{l=i+1}^{k-1} f(k - l) T(l - i)),
    which is (H2) at k + 1 exactly when, with d = k + 1 - i and e = l - i,
        T(d) = [d = 1] + sum_{e=1}^{d-2} f(d-1-e) T(e).
    E[Z^{x^0} .] of (H1) (the Zhat's are centred and independent of Z^{x^0}) gives
        M(n) = sum_{i=0}^{n-2} f(n-1-i) M(i),  M(0) = v, M(1) = 0,   M(n) = E[Z^{x^0} Z^{x^n}].
    Elimination (any kappa, v != 0): if T(e) = M(e - 1)/v for e < d, the T recurrence at d >= 2
    is, after e = i + 1, the M recurrence at n = d - 1 divided by v, so T(d) = M(d - 1)/v for
    all d >= 1 by strong induction (T(1) = 1 = M(0)/v); substituting back,
        M(n) = (kappa/v) sum_{i=0}^{n-2} M(n-2-i) M(i)   (n >= 2),
    the Catalan recursion (kappa = v = 1), solved by :func:`catalan_solution`:
    M(2m) = v kappa^m C_m and M(2m + 1) = 0 for all m.

    Assumed, not derived: the Z rules and the Master Theorem (Yang, Tensor Programs III); the
    shape (H1)-(H2) of the induction hypothesis; that the program is this power iteration of
    one square matrix A and A^T with E[(Z^{x^0})^2] = v. Derived: the induction step, the
    recurrences for f, T and M, and (v != 0) the closed recurrence for M. sympy's ``subs``,
    ``expand`` and the reindexing of finite sums are trusted. The base cases (H1)-(H2) at
    j = 0, 1 and the initial values are not checked here: a caller holds them against the
    Z-calculus of the concrete program (the rule ``zdot_recursion`` does).
    """
    d, n, i, e, l_ = sympy.symbols("d n i e l", integer=True)
    k = sympy.Symbol("k", integer=True, nonnegative=True)
    f, t, m_fn = sympy.Function("f"), sympy.Function("T"), sympy.Function("M")
    flags = [bool(tr) for tr, _ in orientations]
    if not flags or len(set(flags)) != len(flags):
        raise ZCalculusError("z-calculus: a power iteration needs each of A and A^T at most once "
                             f"and at least one of them, not {flags}")
    coeff = {bool(tr): sympy.sympify(c) for tr, c in orientations}
    mult = {False: sympy.sympify(multipliers[0]), True: sympy.sympify(multipliers[1])}
    v = sympy.sympify(initial_second_moment)
    # ZDot of orientation o at step k: the coefficient on Z^{x^i}, i < k, from (H2) at j = k
    zdot_terms = {o: mult[o] * coeff.get(not o, sympy.Integer(0)) * t(k - i) for o in coeff}
    # ZLinComb: the coefficient of Z^{x^i} in Z^{x^{k+1}} = sum_o c_o (Zhat^o_k + Zdot^o_k)
    new_coefficient = sympy.expand(sum(coeff[o] * zdot_terms[o] for o in coeff))
    kappa = sympy.expand(new_coefficient.subs(t(k - i), 1))
    if kappa.has(t) or sympy.expand(kappa * t(k - i) - new_coefficient) != 0:
        raise ZCalculusError(f"z-calculus: the Zdot coefficient {new_coefficient} is not a multiple "
                             "of T(k - i)")
    zdot_eq = sympy.Eq(f(d), kappa * t(d))
    # the chain rule on (H1) at k + 1, then k = d - 1 + i and l = e + i
    chain = sympy.Sum(f(k - l_) * t(l_ - i), (l_, i + 1, k - 1))
    chain = _shift_index(chain.subs(k, d - 1 + i), l_, e, i)
    derivative_eq = sympy.Eq(t(d), sympy.KroneckerDelta(d, 1) + chain)
    moment_eq = sympy.Eq(m_fn(n), sympy.Sum(f(n - 1 - i) * m_fn(i), (i, 0, n - 2)))
    closed = None
    if v.is_zero is False:
        # strong induction: T(e) = M(e - 1)/v for the factor T(e), e <= d - 2 < d
        step = chain.replace(f, lambda a: kappa * t(a))
        step = sympy.Sum(step.function.subs(t(e), m_fn(e - 1) / v), *step.limits)
        step = _shift_index(step, e, i, 1)  # e = i + 1
        target = moment_eq.rhs.subs(n, d - 1).replace(f, lambda a: kappa * t(a))
        target = sympy.Sum(target.function / v, *target.limits)  # M(d - 1)/v
        if _sums_equal(step, target):
            closed_rhs = moment_eq.rhs.replace(f, lambda a: kappa / v * m_fn(a - 1))
            closed = sympy.Eq(m_fn(n), closed_rhs)
    base = {m_fn(0): v, m_fn(1): sympy.Integer(0), t(1): sympy.Integer(1)}
    assumptions = (
        "ZMatMul, ZHat, ZDot, ZLinComb and the Master Theorem (Yang, Tensor Programs III)",
        "the shape (H1)-(H2) of the induction hypothesis; its base cases j = 0, 1 are direct",
        "program: x^{j+1} = sum_o c_o M_o x^j, M_o in {A, A^T} of one square matrix, "
        "E[(Z^{x^0})^2] = v",
    )
    return PowerRecurrence(zdot_eq, derivative_eq, moment_eq, closed, base, kappa, assumptions, v)


@dataclass(frozen=True)
class CatalanSolution:
    """The solution of a closed power-iteration recurrence: M(2m) = ``even`` (a function of the
    symbol ``m``), M(2m + 1) = 0, and the checks that establish it (``checked``)."""

    m: sympy.Symbol
    even: sympy.Expr
    checked: tuple[str, ...]

    def at(self, power: sympy.Expr) -> sympy.Expr | None:
        """M(power) for a power that is an integer polynomial in symbols with even coefficients
        besides the constant (its parity is the constant's); None otherwise."""
        power = sympy.expand(power)
        gens = sorted(power.free_symbols, key=str)
        poly = sympy.Poly(power, *gens) if gens else sympy.Poly(power, sympy.Dummy())
        if not all(c.is_Integer for c in poly.coeffs()):
            return None
        if any(c % 2 for monom, c in poly.terms() if any(monom)):
            return None
        if poly.coeff_monomial(1) % 2:
            return sympy.Integer(0)
        return self.even.xreplace({self.m: power / 2})


def catalan_solution(rec: PowerRecurrence) -> CatalanSolution:
    """Solve M(n) = c sum_{i=0}^{n-2} M(n-2-i) M(i), M(0) = v, M(1) = 0, c = kappa/v.

    Candidate G(2m) = v kappa^m C_m, G(2m + 1) = 0. Checked here, on the recurrence as
    :func:`derive_power_iteration_recurrence` returns it (each summand c M(a) M(b) with
    a + b = n - 2): the initial values G(0) = v, G(1) = 0; for odd n = 2m + 3 every summand
    has a + b = 2m + 1 odd, so one index is odd and the summand is 0 = G(n); for even
    n = 2m + 2 the summands with i odd have both indices odd and vanish, the others are
    c G(2j) G(2m - 2j) = c v^2 kappa^m C_j C_{m-j}, whose sum over j = 0..m is
    c v^2 kappa^m C_{m+1} by Segner's recurrence C_{m+1} = sum_j C_j C_{m-j} (Stanley,
    Catalan Numbers (2015), (1.1)), and that is G(2m + 2). By strong induction on n, M = G.
    Every equality is an ``expand`` to 0; a recurrence of another shape raises ZCalculusError."""
    if rec.closed is None:
        raise ZCalculusError("z-calculus: the moment recurrence was not closed (T not eliminated)")
    m_fn = sympy.Function("M")
    n, i = sympy.Symbol("n", integer=True), sympy.Symbol("i", integer=True)
    m, j = sympy.symbols("m j", integer=True, nonnegative=True)
    rhs = rec.closed.rhs
    if rec.closed.lhs != m_fn(n) or not isinstance(rhs, sympy.Sum) or rhs.limits != ((i, 0, n - 2),):
        raise ZCalculusError(f"z-calculus: the recurrence {rec.closed} is not a sum over i = 0..n-2")
    factors = sympy.Mul.make_args(rhs.function)
    calls = [a for a in factors if isinstance(a, sympy.Function) and a.func == m_fn]
    c = sympy.Mul(*[a for a in factors if a not in calls])
    if rhs.function == 0:
        raise ZCalculusError("z-calculus: kappa = 0 (no Zdot: W has one orientation, or they cancel), "
                             "M(n) = 0 for n >= 1")
    if len(calls) != 2 or c.has(m_fn) or c.free_symbols & {n, i}:
        raise ZCalculusError(f"z-calculus: the summand {rhs.function} is not c M(a) M(b)")
    a, b = calls[0].args[0], calls[1].args[0]
    indices = {sympy.expand(a), sympy.expand(b)}
    if sympy.expand(a + b - (n - 2)) != 0 or indices != {i, sympy.expand(n - 2 - i)}:
        raise ZCalculusError(f"z-calculus: the indices {a}, {b} are not i and n - 2 - i")
    v, kappa = rec.base[m_fn(0)], rec.kappa
    # kappa^m as K^m for a positive symbol K: the exponent laws used (K^a K^b = K^(a+b), a, b
    # natural numbers) hold for every K, and sympy applies them to a positive one
    big_k = sympy.Dummy("kappa", positive=True)
    even = v * big_k ** m * sympy.catalan(m)
    if sympy.expand(c * v - kappa) != 0:
        raise ZCalculusError(f"z-calculus: the recurrence's factor {c} is not kappa/v = {kappa}/{v}")
    c = big_k / v

    def g_even(x: sympy.Expr) -> sympy.Expr:
        return even.xreplace({m: x})

    checked = []
    if sympy.expand(g_even(0) - v) != 0 or rec.base[m_fn(1)] != 0:
        raise ZCalculusError("z-calculus: the candidate misses the initial values M(0), M(1)")
    checked.append(f"G(0) = {v} = M(0), G(1) = 0 = M(1)")
    # odd n = 2m + 3: the two indices of a summand add up to 2m + 1
    if sympy.expand((a + b).subs(n, 2 * m + 3) - (2 * m + 1)) != 0:
        raise ZCalculusError("z-calculus: the parity argument for odd n does not apply")
    checked.append("odd n: a + b = n - 2 is odd, so every summand has an odd index and is 0")
    # even n = 2m + 2: i = 2j (j = 0..m); odd i gives two odd indices
    term = (c * g_even(a / 2) * g_even(b / 2)).subs({n: 2 * m + 2}).subs(i, 2 * j)
    factored = c * v ** 2 * big_k ** m * sympy.catalan(j) * sympy.catalan(m - j)
    if sympy.expand(sympy.powsimp(term - factored, combine="exp")) != 0:
        raise ZCalculusError(f"z-calculus: the even summand {term} is not {factored}")
    rests_on("pairings")  # Segner's recurrence for the Catalan numbers
    segner = c * v ** 2 * big_k ** m * sympy.catalan(m + 1)
    if sympy.expand(sympy.powsimp(segner - g_even(m + 1), combine="exp")) != 0:
        raise ZCalculusError(f"z-calculus: c v^2 kappa^m C_(m+1) = {segner} is not "
                             f"G(2m + 2) = {g_even(m + 1)}")
    checked.append(f"even n = 2m + 2: sum_j {sympy.powsimp(factored)} = {sympy.powsimp(segner)} = G(2m + 2) "
                   "by Segner's recurrence".replace(str(big_k), "kappa"))
    return CatalanSolution(m, even.xreplace({big_k: kappa}), tuple(checked))


def _shift_index(s: sympy.Sum, old: sympy.Symbol, new: sympy.Symbol, offset: sympy.Expr) -> sympy.Sum:
    """sum_{old=a}^{b} g(old) = sum_{new=a-offset}^{b-offset} g(new + offset)."""
    (_, lo, hi), = s.limits
    return sympy.Sum(sympy.expand(s.function.subs(old, new + offset)),
                     (new, sympy.expand(lo - offset), sympy.expand(hi - offset)))


def _sums_equal(a: sympy.Sum, b: sympy.Sum) -> bool:
    """Two single sums with the same index, equal limits and equal summands (after expand)."""
    (va, lo_a, hi_a), = a.limits
    (vb, lo_b, hi_b), = b.limits
    return (sympy.expand(lo_a - lo_b) == 0 and sympy.expand(hi_a - hi_b) == 0
            and sympy.expand(a.function - b.function.subs(vb, va)) == 0)
