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
relu/step/erf pairs (arc-cosine and erf kernels), and to a requested precision by mpmath
otherwise (``numeric`` in the result says which).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy

from tpcheck.errors import TpcheckError
from tpcheck.gaussian import (
    ACTIVATIONS,
    Activation,
    bivariate_expectation,
    erf_kernel,
    polynomial_activation,
    polynomial_expectation,
    relu_kernel,
    step_kernel,
)
from tpcheck.heads import Avg, MatPowVec, MatVec, outermost, relu
from tpcheck.laws import GaussianMatrix, InitialVectors
from tpcheck.numeric import evaluate


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
        if term.is_polynomial(*symbols):
            mean = [self.mean.get(s, sympy.Integer(0)) for s in symbols]
            return polynomial_expectation(term, symbols, self.covariance_matrix(symbols), mean)
        exact = self._closed_form(term, symbols)
        if exact is not None:
            return exact
        self.numeric_used = True
        return self._numeric(term, symbols)

    def _forms(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> dict | None:
        """Group the factors of a product by the linear form they depend on (at most two)."""
        groups: dict[sympy.Expr, list[sympy.Expr]] = {}
        const = sympy.Integer(1)
        for f in sympy.Mul.make_args(term):
            if not f.free_symbols & set(symbols):
                const *= f
                continue
            base = f.base if f.is_Pow and f.exp.is_Integer and f.exp > 0 else f
            arg = base.args[0] if isinstance(base, sympy.Function) and len(base.args) == 1 else base
            if not arg.is_polynomial(*symbols) or sympy.Poly(arg, *symbols).total_degree() != 1:
                return None
            key = self._normalise(arg, symbols)
            groups.setdefault(key, []).append(f)
        if len(groups) > 2 or any(self.mean.get(s, 0) != 0 for s in symbols):
            return None
        return {"const": const, "groups": groups}

    @staticmethod
    def _normalise(form: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        return sympy.expand(form)

    def _var(self, a: sympy.Expr, b: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        return sympy.expand(polynomial_expectation(a * b, symbols, self.covariance_matrix(symbols)))

    def _closed_form(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr | None:
        """phi(u) phi(v) for phi in {relu, step, erf} and linear forms u, v: the arc-cosine and
        erf kernels, exactly."""
        parts = self._forms(term, symbols)
        if parts is None:
            return None
        kernels = {relu: relu_kernel, sympy.Heaviside: step_kernel, sympy.erf: erf_kernel}
        if len(parts["groups"]) == 1:
            # one direction: E[phi(u)^2] = kernel(q, q, q) (rho = 1); E[phi(u)] in closed form
            ((u, factors),) = parts["groups"].items()
            flat: list[sympy.Expr] = []
            for f in factors:
                base, m = (f.base, int(f.exp)) if f.is_Pow else (f, 1)
                flat += [base] * m
            heads = {type(f) for f in flat}
            if len(heads) != 1 or any(f.args != (u,) for f in flat):
                return None
            head = heads.pop()
            q = self._var(u, u, symbols)
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
        if kernel is None or fu[0].args[0] != u or fv[0].args[0] != v:
            return None
        q1, q2, c = self._var(u, u, symbols), self._var(v, v, symbols), self._var(u, v, symbols)
        return parts["const"] * kernel(q1, q2, c)

    def _numeric(self, term: sympy.Expr, symbols: list[sympy.Symbol]) -> sympy.Expr:
        parts = self._forms(term, symbols)
        if parts is None:
            raise ProgramError(f"no method for E[{term}]: more than two Gaussian directions")
        t = sympy.Symbol("t", real=True)
        acts, forms = [], []
        for form, factors in parts["groups"].items():
            g = sympy.Mul(*[f.xreplace({form: t}) for f in factors])
            if form in g.free_symbols or g.free_symbols - {t}:
                raise ProgramError(f"cannot separate E[{term}] into functions of linear forms")
            acts.append(_activation(g, t))
            forms.append(form)
        with mpmath.workdps(self.dps + 10):
            const = evaluate(parts["const"], {}, "mpmath")
            if len(forms) == 1:
                from tpcheck.gaussian import gaussian_expectation

                q = evaluate(self._var(forms[0], forms[0], symbols), {}, "mpmath")
                value = gaussian_expectation(acts[0], q, self.dps)
            else:
                q1 = evaluate(self._var(forms[0], forms[0], symbols), {}, "mpmath")
                q2 = evaluate(self._var(forms[1], forms[1], symbols), {}, "mpmath")
                c = evaluate(self._var(forms[0], forms[1], symbols), {}, "mpmath")
                if c == 0:  # independent directions: the expectation factorises
                    from tpcheck.gaussian import gaussian_expectation

                    value = (gaussian_expectation(acts[0], q1, self.dps)
                             * gaussian_expectation(acts[1], q2, self.dps))
                else:
                    value = bivariate_expectation(acts[0], acts[1], q1, q2, c, self.dps)
            return sympy.Float(mpmath.nstr(const * value, self.dps + 5), self.dps + 5)


def _activation(g: sympy.Expr, t: sympy.Symbol) -> Activation:
    """The activation t -> g(t): a named one (with its Gaussian smoothing) when g is relu, step,
    erf, tanh, sin, cos or exp of t, a polynomial one when g is a polynomial, else generic."""
    named = {relu: "relu", sympy.Heaviside: "step", sympy.erf: "erf", sympy.tanh: "tanh",
             sympy.sin: "sin", sympy.cos: "cos", sympy.exp: "exp"}
    if type(g) in named and g.args == (t,):
        return ACTIVATIONS[named[type(g)]]
    if g.is_polynomial(t):
        coeffs = sympy.Poly(g, t).all_coeffs()[::-1]
        if all(c.is_Rational for c in coeffs):
            return polynomial_activation(coeffs)
    kink = g.has(relu, sympy.Heaviside, sympy.Abs, sympy.sign)

    def mp(x: Any) -> Any:
        return evaluate(g, {t: x}, "mpmath")

    def np_(x: np.ndarray) -> np.ndarray:
        return evaluate(g, {t: x}, "numpy")

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
                for o, y, other in hats:
                    if o == (matrix, not transpose):
                        zdot += law.z[y] * law.expect(sympy.diff(law.z[x], other))
                zdot = mult * zdot
            hats.append((orientation, x, zh))
            law.z[ins.out] = sympy.expand(zh + zdot)
    return law


def master_theorem_limit(program: Program, psi: sympy.Expr, inputs: list[str],
                         drop_zdot: bool = False, dps: int = 30) -> tuple[sympy.Expr, bool]:
    """lim (1/n) sum_alpha psi(h^1_alpha, ...) = E psi(Z^{h^1}, ...); returns (value, exact)."""
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
    rng = np.random.default_rng(seed)
    init = [i.out for i in program.instructions if i.kind == "initial"]
    cov = np.array([[float(program.initial_cov.get((a, b), 0)) for b in init] for a in init])
    mean = np.array([float(program.initial_mean[a]) for a in init])
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0, None))
    values = []
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
            mats[name] = rng.standard_normal((n, n)) * np.sqrt(float(fwd) / n)
        scalars: dict[sympy.Symbol, float] = {}
        for ins in program.instructions:
            if ins.kind == "lincomb":
                vec[ins.out] = sum(float(c) * vec[x] for x, c in ins.args)
            elif ins.kind in ("nonlin", "moment"):
                phi, xs = ins.args
                env = {sympy.Symbol(x): vec[x] for x in xs} | {sympy.Symbol(x, real=True): vec[x] for x in xs}
                raw = evaluate(phi, {**scalars, **env}, "numpy")
                value = np.broadcast_to(np.asarray(raw, float), (n,))
                if ins.kind == "moment":
                    theta = float(value.mean())
                    scalars[sympy.Symbol(ins.out)] = scalars[sympy.Symbol(ins.out, real=True)] = theta
                else:
                    vec[ins.out] = value
            elif ins.kind == "matmul":
                m, x, transpose = ins.args
                vec[ins.out] = (mats[m].T if transpose else mats[m]) @ vec[x]
        env = {sympy.Symbol(x): vec[x] for x in inputs} | {sympy.Symbol(x, real=True): vec[x] for x in inputs}
        values.append(float(np.mean(evaluate(psi, {**scalars, **env}, "numpy"))))
    arr = np.asarray(values)
    return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(samples)) if samples > 1 else 0.0
