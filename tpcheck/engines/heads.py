"""Mathematical heads that sympy lacks: ``E[.]``, ``Var[.]``, ``P[.]``; the counting functions
``narayana``, ``pairings``, ``ncpairings``; ``relu``; the moment sums of iid sums
(``moment_sum``); random-matrix traces and the genus sum (``tr(M^k)``, ``genus_sum``); and the
vectors and averages of tensor programs (``A*x``, ``W^k*x``, ``avg``).

They are plain sympy ``Function`` subclasses that do not evaluate on their own (a few at
concrete arguments, as their docstrings say), so a rule decides when an expectation, a count
or an average is replaced by its value.
"""

from __future__ import annotations

import sympy


class Expectation(sympy.Function):
    """``E[X]``: the expectation of a random expression; stays unevaluated."""

    nargs = 1

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        return f"E[{printer.doprint(self.args[0])}]"

    def _latex(self, printer) -> str:  # noqa: ANN001
        return r"\mathbb{E}\left[" + printer.doprint(self.args[0]) + r"\right]"


class narayana(sympy.Function):  # noqa: N801  (lower case like sympy's catalan, binomial)
    """Narayana number N(k, j) = binomial(k, j) binomial(k, j - 1) / k (k >= 1).

    Stays unevaluated until ``doit()``, which computes it at integer arguments.
    """

    nargs = 2

    def doit(self, **hints) -> sympy.Expr:  # noqa: ANN003
        k, j = (a.doit(**hints) if hints.get("deep", True) else a for a in self.args)
        if k.is_Integer and j.is_Integer and k >= 1:
            return sympy.binomial(k, j) * sympy.binomial(k, j - 1) / k
        return narayana(k, j)


def outermost(expr: sympy.Basic, wanted) -> list[sympy.Basic]:  # noqa: ANN001
    """The outermost subterms of ``expr`` for which ``wanted`` holds (not looking inside
    them), without repeats, in the order they are met."""
    found: list[sympy.Basic] = []
    seen: set[sympy.Basic] = set()  # a subterm met again holds nothing new (trees share a lot)

    def walk(e: sympy.Basic) -> None:
        if e in seen:
            return
        seen.add(e)
        if wanted(e):
            found.append(e)
            return
        for a in e.args:
            walk(a)

    walk(expr)
    return found


def expectations(expr: sympy.Expr) -> list[Expectation]:
    """The outermost ``E[.]`` subterms of ``expr``, in a deterministic order."""
    return outermost(expr, lambda e: isinstance(e, Expectation))


class Variance(sympy.Function):
    """``Var[X]`` = E[X^2] - E[X]^2; stays unevaluated."""

    nargs = 1

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        return f"Var[{printer.doprint(self.args[0])}]"


class Probability(sympy.Function):
    """``P[event]`` for an event ``lhs REL rhs``; stays unevaluated."""

    nargs = 1

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        return f"P[{printer.doprint(self.args[0])}]"


class pairings(sympy.Function):  # noqa: N801
    """The number of perfect matchings (pair partitions) of m points; computed by ``doit`` at
    integer m by enumeration-free recursion p(m) = (m - 1) p(m - 2)."""

    nargs = 1

    def doit(self, **hints) -> sympy.Expr:  # noqa: ANN003
        m = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        if m.is_Integer and m >= 0:
            return sympy.factorial2(m - 1) if m % 2 == 0 else sympy.Integer(0)
        return pairings(m)


class relu(sympy.Function):  # noqa: N801
    """relu(x) = max(0, x); derivative step(x)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Heaviside(self.args[0])


def sech(x: sympy.Expr) -> sympy.Expr:
    """sech(x) = 1/cosh(x)."""
    return 1 / sympy.cosh(x)


class MomentSum(sympy.Function):
    """``moment_sum(X, n, k)`` = sum over set partitions pi of {1..k} without singleton blocks
    of (n)_{|pi|} prod_{B in pi} E[X^{|B|}], for an iid family X (its label symbol)."""

    nargs = 3

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        x, n, k = self.args
        return f"moment_sum({printer.doprint(x)}, {printer.doprint(n)}, {printer.doprint(k)})"


class TracePower(sympy.Function):
    """``tr(M^k)`` for a random matrix M (its law says which ensemble)."""

    nargs = 2

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        m, k = self.args
        return f"tr({printer.doprint(m)}^{printer.doprint(k)})"


class GenusSum(sympy.Function):
    """``genus_sum(n, k)`` = sum over pairings pi of 2k points of n^{#cycles(gamma pi) - k - 1}
    (gamma the 2k-cycle): (1/n^{k+1}) E tr M^{2k} for GUE(n). ``doit`` gives the
    Harer-Zagier polynomial for a concrete k."""

    nargs = 2

    def doit(self, **hints) -> sympy.Expr:  # noqa: ANN003
        n, k = (a.doit(**hints) for a in self.args)
        if k.is_Integer and k >= 0:
            from tpcheck.engines.random_matrices import gue_trace_moment

            return sympy.expand(gue_trace_moment(2 * int(k), n) / n ** (k + 1))
        return GenusSum(n, k)


class ncpairings(sympy.Function):  # noqa: N801
    """``ncpairings(m)``: the number of non-crossing pairings of m points in circular order;
    ``doit`` gives C_{m/2} (0 for odd m) at a concrete m."""

    nargs = 1

    def doit(self, **hints) -> sympy.Expr:  # noqa: ANN003
        m = self.args[0].doit(**hints)
        if m.is_Integer and m >= 0:
            return sympy.catalan(m // 2) if m % 2 == 0 else sympy.Integer(0)
        return ncpairings(m)


class MatVec(sympy.Function):
    """``A*x`` (t = 0) or ``transpose(A)*x`` (t = 1) for a Gaussian matrix A and a vector x."""

    nargs = 3

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        a, t, x = self.args
        m = printer.doprint(a) + ("^T" if t else "")
        return f"({m} {printer.doprint(x)})"


class MatPowVec(sympy.Function):
    """``W^k*x`` for a matrix expression W = sum c (A or A^T), stored as a tuple of (A, t, c)."""

    nargs = 3


class Avg(sympy.Function):
    """``avg(v)`` = (1/n) sum_alpha v_alpha for a width-n vector expression v."""

    nargs = 1

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        return f"avg({printer.doprint(self.args[0])})"


class LimitLaw(sympy.Function):
    """The law a sequence converges to in distribution (the right side of ``~>``): args
    (name, mean, covariance), e.g. (Normal, (0, 0), ((1, c), (c, 1)))."""

    nargs = 3

    def _sympystr(self, printer) -> str:  # noqa: ANN001
        name, mean, cov = self.args
        if len(mean) == 1:
            return f"{name}({printer.doprint(mean[0])}, {printer.doprint(cov[0][0])})"
        rows = [[printer.doprint(c) for c in r] for r in cov]
        return f"{name}({[printer.doprint(m) for m in mean]}, {rows})"
