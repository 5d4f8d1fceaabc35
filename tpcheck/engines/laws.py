"""Laws of random objects: exact moments, high-precision expectations and seeded samplers.

Parameters are sympy expressions (they may contain the theorem's symbols); numeric methods
take the parameters' values. Every law gives its raw moments E[X^j] exactly, so a Monte-Carlo
witness can instantiate a family declared only by its moments with a concrete law.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import mpmath
import numpy as np
import sympy


def _quad(f: Callable[[Any], Any], interval: list) -> Any:
    from tpcheck.engines.mpmath_eval import quad

    return quad(f, interval)


class Law:
    """Interface: ``parameters``, ``moment(j)``, ``mpmath_expectation``, ``sample``."""

    name = "Law"
    parameters: tuple[sympy.Expr, ...] = ()

    def moment(self, j: int) -> sympy.Expr | None:
        raise NotImplementedError

    def mpmath_expectation(self, f: Callable[[Any], Any], *params: Any) -> Any:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: Any, *params: float) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name}({', '.join(str(p) for p in self.parameters)})"

    def admissible(self, *params: float) -> bool:
        """Whether these parameter values define a law (e.g. a variance is >= 0)."""
        return True


@dataclass(frozen=True)
class Normal(Law):
    """N(mean, variance): density exp(-(x - mean)^2 / (2 variance)) / sqrt(2 pi variance)."""

    mean: sympy.Expr
    variance: sympy.Expr
    name = "Normal"

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:  # type: ignore[override]
        return (self.mean, self.variance)

    def centred_moment(self, m: sympy.Expr) -> sympy.Expr | None:
        """E[(X - mean)^m] = variance^(m/2) (m - 1)!! for even m >= 0, 0 for odd m >= 1.

        None when the parity of ``m`` does not follow from its assumptions (Isserlis 1918).
        """
        if m.is_nonnegative is not True or m.is_integer is not True:
            return None
        if (m / 2).is_integer:
            return self.variance ** (m / 2) * sympy.factorial2(m - 1)
        if ((m - 1) / 2).is_integer:
            return sympy.Integer(0)
        return None

    def moment(self, j: int) -> sympy.Expr:
        return sympy.expand(sympy.Add(*[
            sympy.binomial(j, i) * self.mean ** (j - i) * self.centred_moment(sympy.Integer(i))
            for i in range(j + 1)
        ]))

    def mpmath_expectation(self, f: Callable[[Any], Any], mean: Any, variance: Any) -> Any:
        sd = mpmath.sqrt(variance)
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        return _quad(lambda z: f(mean + sd * z) * mpmath.exp(-z * z / 2) * norm,
                     [-mpmath.inf, 0, mpmath.inf])

    def sample(self, rng: np.random.Generator, size: Any, mean: float, variance: float) -> np.ndarray:
        return mean + np.sqrt(variance) * rng.standard_normal(size)

    def admissible(self, mean: float, variance: float) -> bool:
        return variance >= 0


@dataclass(frozen=True)
class TwoPoint(Law):
    """X = a with probability p, b with probability 1 - p."""

    a: sympy.Expr
    b: sympy.Expr
    p: sympy.Expr
    name = "TwoPoint"

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:  # type: ignore[override]
        return (self.a, self.b, self.p)

    def moment(self, j: int) -> sympy.Expr:
        return self.p * self.a**j + (1 - self.p) * self.b**j

    def mpmath_expectation(self, f: Callable[[Any], Any], a: Any, b: Any, p: Any) -> Any:
        return p * f(a) + (1 - p) * f(b)

    def sample(self, rng: np.random.Generator, size: Any, a: float, b: float, p: float) -> np.ndarray:
        return np.where(rng.random(size) < p, a, b)

    def admissible(self, a: float, b: float, p: float) -> bool:
        return 0 <= p <= 1


@dataclass(frozen=True)
class Rademacher(TwoPoint):
    """X = +1 or -1 with probability 1/2 each."""

    a: sympy.Expr = sympy.Integer(1)
    b: sympy.Expr = sympy.Integer(-1)
    p: sympy.Expr = sympy.Rational(1, 2)
    name = "Rademacher"

    def describe(self) -> str:
        return "Rademacher()"


@dataclass(frozen=True)
class Uniform(Law):
    """Uniform on [a, b]: E[X^j] = (b^(j+1) - a^(j+1)) / ((j + 1)(b - a))."""

    a: sympy.Expr
    b: sympy.Expr
    name = "Uniform"

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:  # type: ignore[override]
        return (self.a, self.b)

    def moment(self, j: int) -> sympy.Expr:
        return sympy.expand((self.b ** (j + 1) - self.a ** (j + 1)) / ((j + 1) * (self.b - self.a)))

    def mpmath_expectation(self, f: Callable[[Any], Any], a: Any, b: Any) -> Any:
        return _quad(f, [a, b]) / (b - a)

    def sample(self, rng: np.random.Generator, size: Any, a: float, b: float) -> np.ndarray:
        return rng.uniform(a, b, size)

    def admissible(self, a: float, b: float) -> bool:
        return a < b


@dataclass(frozen=True)
class CentredExponential(Law):
    """X = Y - 1 with Y ~ Exponential(1): mean 0, variance 1, E[X^j] = sum_i C(j,i) i! (-1)^(j-i)."""

    name = "CentredExponential"

    def moment(self, j: int) -> sympy.Expr:
        return sympy.Add(*[sympy.binomial(j, i) * sympy.factorial(i) * (-1) ** (j - i)
                           for i in range(j + 1)])

    def mpmath_expectation(self, f: Callable[[Any], Any]) -> Any:
        return _quad(lambda y: f(y - 1) * mpmath.exp(-y), [0, mpmath.inf])

    def sample(self, rng: np.random.Generator, size: Any) -> np.ndarray:
        return rng.exponential(1.0, size) - 1.0


@dataclass(frozen=True)
class IIDFamily:
    """X[lo], ..., X[hi]: independent copies of one law, known by its declared moments
    E[X^j] = moments[j] and, when given, by a concrete law."""

    base: sympy.IndexedBase
    lo: sympy.Expr
    hi: sympy.Expr
    moments: tuple[tuple[int, sympy.Expr], ...]
    law: Law | None = None

    def with_law(self, law: Law) -> IIDFamily:
        return IIDFamily(self.base, self.lo, self.hi, self.moments, law)

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:
        extra = tuple(v for _, v in self.moments)
        return (self.lo, self.hi, *extra, *(self.law.parameters if self.law else ()))

    def moment(self, j: int) -> sympy.Expr | None:
        """E[X^j]: declared, else the concrete law's, else None (E[X^0] = 1 always)."""
        if j == 0:
            return sympy.Integer(1)
        for k, v in self.moments:
            if k == j:
                return v
        return self.law.moment(j) if self.law is not None else None

    def describe(self) -> str:
        spec = ", ".join(f"E[X^{k}] = {v}" for k, v in self.moments)
        return f"iid[{self.lo}..{self.hi}]" + (f" ~ {self.law.describe()}" if self.law else "") + (
            f" with {spec}" if spec else "")


@dataclass(frozen=True)
class GaussianVector:
    """(X_1, ..., X_d) ~ N(mean, cov), jointly Gaussian; entries may be symbols."""

    names: tuple[sympy.Symbol, ...]
    mean: tuple[sympy.Expr, ...]
    cov: tuple[tuple[sympy.Expr, ...], ...]

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:
        return (*self.mean, *(x for row in self.cov for x in row))

    def describe(self) -> str:
        return f"Normal({list(self.mean)}, {[list(r) for r in self.cov]})"

    def admissible(self, *params: float) -> bool:
        """The covariance (given after the means) is positive semidefinite."""
        d = len(self.mean)
        cov = np.array(params[d:], dtype=float).reshape(d, d)
        w = np.linalg.eigvalsh(cov)
        return bool(w.min() >= -1e-12 * max(1.0, float(np.abs(w).max())))


@dataclass(frozen=True)
class GaussianComponent(Law):
    """The ``index``-th coordinate of a Gaussian vector (sampled jointly with the others)."""

    vector: GaussianVector
    index: int
    name = "GaussianComponent"

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:  # type: ignore[override]
        return self.vector.parameters

    @property
    def marginal(self) -> Normal:
        i = self.index
        return Normal(self.vector.mean[i], self.vector.cov[i][i])

    def moment(self, j: int) -> sympy.Expr:
        return self.marginal.moment(j)

    def describe(self) -> str:
        return f"coordinate {self.index + 1} of {self.vector.describe()}"

    def admissible(self, *params: float) -> bool:
        return self.vector.admissible(*params)


# name -> (class, number of parameters)
LAWS: dict[str, tuple[type, int]] = {
    "Normal": (Normal, 2),
    "TwoPoint": (TwoPoint, 3),
    "Rademacher": (Rademacher, 0),
    "Uniform": (Uniform, 2),
    "CentredExponential": (CentredExponential, 0),
}


def joint_gaussian(
    symbols: list[sympy.Symbol], laws: dict[sympy.Symbol, Any]
) -> tuple[list[sympy.Expr], list[list[sympy.Expr]]] | None:
    """Mean and covariance of ``symbols`` if they are jointly Gaussian (declared Normal
    symbols are independent of everything else; coordinates of one vector share its
    covariance), else None."""
    mean: list[sympy.Expr] = []
    for s in symbols:
        law = laws.get(s)
        if isinstance(law, Normal):
            mean.append(law.mean)
        elif isinstance(law, GaussianComponent):
            mean.append(law.vector.mean[law.index])
        else:
            return None
    cov = [[sympy.Integer(0)] * len(symbols) for _ in symbols]
    for i, a in enumerate(symbols):
        for j, b in enumerate(symbols):
            la, lb = laws[a], laws[b]
            if a == b:
                cov[i][j] = la.variance if isinstance(la, Normal) else la.vector.cov[la.index][la.index]
            elif (isinstance(la, GaussianComponent) and isinstance(lb, GaussianComponent)
                  and la.vector == lb.vector):
                cov[i][j] = la.vector.cov[la.index][lb.index]
    return mean, cov


@dataclass(frozen=True)
class MatrixEnsemble:
    """A random n x n matrix: ``GOE``, ``GUE`` (normalisations in :mod:`tpcheck.engines.random_matrices`),
    ``Wigner`` (real symmetric, zero diagonal, iid off-diagonal entries with the declared
    moments, E X_ij = 0, E X_ij^2 = 1, or a concrete entry law) or ``Wishart``
    (S = X X^T / N for X n x N with iid entries: Gaussian, or with the declared moments)."""

    kind: str
    n: sympy.Expr
    moments: tuple[tuple[int, sympy.Expr], ...] = ()
    law: Law | None = None
    columns: sympy.Expr | None = None  # Wishart: S = X X^T / N with X n x N

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:
        extra = (self.columns,) if self.columns is not None else ()
        return (self.n, *extra, *(v for _, v in self.moments),
                *(self.law.parameters if self.law else ()))

    def entry_moment(self, j: int) -> sympy.Expr | None:
        """Off-diagonal entry moment E[X_ij^j] (Wigner)."""
        if j == 0:
            return sympy.Integer(1)
        for k, v in self.moments:
            if k == j:
                return v
        return self.law.moment(j) if self.law is not None else None

    def with_law(self, law: Law) -> MatrixEnsemble:
        return MatrixEnsemble(self.kind, self.n, self.moments, law, self.columns)

    def describe(self) -> str:
        size = f"{self.n}, {self.columns}" if self.columns is not None else f"{self.n}"
        return f"{self.kind}({size})" + (f" ~ {self.law.describe()}" if self.law else "")

    def admissible(self, *params: float) -> bool:
        sizes = params[:2] if self.columns is not None else params[:1]
        return all(s >= 1 and float(s).is_integer() for s in sizes)


@dataclass(frozen=True)
class GaussianMatrix:
    """An n x n matrix (Tensor Programs A-var) with iid N(0, variance/n) entries; its
    transpose multiplies with ``transpose_variance`` (for a non-square A, v d_in)."""

    n: sympy.Expr
    variance: sympy.Expr
    transpose_variance: sympy.Expr

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:
        return (self.n, self.variance, self.transpose_variance)

    def describe(self) -> str:
        return f"Matrix({self.n}, {self.variance})"

    def admissible(self, *params: float) -> bool:
        return params[1] >= 0 and params[2] >= 0


@dataclass(frozen=True)
class InitialVectors:
    """Width-n vectors with iid coordinates across alpha, jointly Gaussian across the names:
    coordinate law N(mean, cov) (Tensor Programs initial G-vars)."""

    n: sympy.Expr
    names: tuple[sympy.Symbol, ...]
    cov: tuple[tuple[sympy.Expr, ...], ...]
    mean: tuple[sympy.Expr, ...]

    @property
    def parameters(self) -> tuple[sympy.Expr, ...]:
        return (self.n, *(x for row in self.cov for x in row), *self.mean)

    def describe(self) -> str:
        return f"Vector({self.n}, {[list(r) for r in self.cov]})"

    def admissible(self, *params: float) -> bool:
        d = len(self.names)
        cov = np.array(params[1 : 1 + d * d], dtype=float).reshape(d, d)
        return bool(np.linalg.eigvalsh(cov).min() >= -1e-12)


MAX_SYMBOLIC_PSD = 6  # principal minors of a d x d symbolic matrix: 2^d - 1 determinants


def provably_nonnegative(expr: sympy.Expr, slacks: Sequence[sympy.Expr] = ()) -> bool | None:
    """True if expr >= 0 follows from the symbols' domains and ``slacks`` (expressions known to
    be >= 0: the theorem's assumptions moved to one side), False if expr < 0 follows from the
    domains, None otherwise.

    Sufficient conditions only: sympy's assumptions on expr, its expansion or its
    factorisation; or expr - s or expr - s s' shown >= 0 for slacks s, s' (then
    expr >= s >= 0). No floating point decides a symbolic sign.
    """
    expr = sympy.sympify(expr)
    forms = [expr, sympy.expand(expr)]
    if expr.free_symbols:
        forms.append(sympy.factor(forms[1]))
    if any(f.is_nonnegative for f in forms):
        return True
    if any(f.is_negative for f in forms):
        return False
    slacks = [sympy.sympify(s) for s in slacks]
    bounds = [*slacks, *(a * b for a, b in combinations(slacks, 2)), *(a**2 for a in slacks)]
    for lower in bounds:
        rest = sympy.expand(expr - lower)
        if rest.is_nonnegative or sympy.factor(rest).is_nonnegative:
            return True
    return None


def _rational_psd(rows: list[list[sympy.Rational]]) -> bool:
    """Exact symmetric elimination over Q: a matrix is PSD iff each pivot is >= 0, a zero pivot
    has a zero row beside it, and the Schur complement left is PSD (Horn & Johnson 2013,
    Thm 7.7.7)."""
    a = [list(r) for r in rows]
    d = len(a)
    for k in range(d):
        p = a[k][k]
        if p < 0:
            return False
        if p == 0:
            if any(a[k][j] != 0 for j in range(k + 1, d)):
                return False
            continue
        for i in range(k + 1, d):
            f = a[i][k] / p
            for j in range(k + 1, d):
                a[i][j] -= f * a[k][j]
    return True


def positive_semidefinite(matrix: Sequence[Sequence[Any]],
                          slacks: Sequence[sympy.Expr] = ()) -> bool | None:
    """Whether a symmetric matrix is positive semidefinite: True (shown), False (shown not, for
    every admissible value of its symbols), None (not decided).

    Rational entries: decided exactly by symmetric elimination over Q, never in floating
    point. Otherwise: a symmetric matrix is PSD iff every principal minor is >= 0 (Horn &
    Johnson 2013, Thm 7.2.5); each minor is shown >= 0 by :func:`provably_nonnegative` (from
    the symbols' domains and the ``slacks``), and one minor shown < 0 refutes. Larger than
    6 x 6, only the diagonal is examined for a refutation.
    """
    rows = [[sympy.sympify(x) for x in row] for row in matrix]
    d = len(rows)
    if all(x.is_Rational for row in rows for x in row):
        return _rational_psd(rows)
    if d > MAX_SYMBOLIC_PSD:
        return False if any(provably_nonnegative(rows[i][i]) is False for i in range(d)) else None
    shown: bool | None = True
    for size in range(1, d + 1):
        for idx in combinations(range(d), size):
            minor = sympy.Matrix([[rows[i][j] for j in idx] for i in idx]).det(method="berkowitz")
            sign = provably_nonnegative(minor, slacks)
            if sign is False:
                return False
            if sign is None:
                shown = None
    return shown


MAX_HANKEL_INDEX = 8  # moment matrices (E[X^(i+j)])_{i, j in I} for I within 0..8


def moment_contradiction(moments: Mapping[int, Any]) -> str | None:
    """Why no law has these raw moments E[X^j] = moments[j], or None if none was found.

    For any index set I, (E[X^(i+j)])_{i,j in I} = E[v v^T] with v = (X^i)_{i in I} is positive
    semidefinite (the Hamburger moment condition), so each of its principal minors is >= 0:
    E[X^(2i)] >= 0, E[X^2] >= E[X]^2, E[X^4] >= E[X^2]^2, ... Every I all of whose entries are
    declared is examined; a minor that is negative (exactly, for numbers; provably, from the
    symbols' domains, for symbolic entries of a matrix up to 3 x 3) is a contradiction.
    """
    known = {0: sympy.Integer(1), **{j: sympy.sympify(v) for j, v in moments.items()}}
    top = min(max(known) // 2, MAX_HANKEL_INDEX)
    for size in range(1, top + 2):
        for idx in combinations(range(top + 1), size):
            if any(i + j not in known for i in idx for j in idx):
                continue
            block = [[known[i + j] for j in idx] for i in idx]
            numeric = all(x.is_Rational for row in block for x in row)
            if not numeric and size > 3:
                continue
            minor = sympy.Matrix(block).det(method="berkowitz")
            if (minor < 0) if numeric else provably_nonnegative(minor) is False:
                rendered = str([[str(x) for x in row] for row in block]).replace("'", "")
                powers = ", ".join(str(i) for i in idx)
                return (f"the moment matrix (E[X^(i+j)]) for i, j in {{{powers}}}, {rendered}, "
                        "is not positive semidefinite")
    return None
