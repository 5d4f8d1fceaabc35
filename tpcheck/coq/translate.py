"""Sympy expressions of tpcheck's language as Coq terms over R (and nat for counting arguments).

The translation is exact or refused: every term it writes denotes the same real number as the
sympy expression wherever the step's hypotheses hold, or it raises :class:`NotExportable` with
the reason. The counting functions map to the definitions of the prelude (``prelude.v``):

- ``factorial(a)`` -> ``tp_fact a``; ``factorial2(a)`` -> ``tp_dfm (a + 1)`` (``(m-1)!!``);
- ``binomial(a, b)`` -> ``tp_binom a b`` where b <= a is shown; ``catalan(a)`` -> ``tp_catalan a``;
- ``narayana(a, b)`` -> ``tp_narayana a b`` where 1 <= b <= a is shown;
- ``sum(f, i = lo..hi)`` -> ``tp_sum lo hi (fun i => f)`` where lo <= hi + 1 is shown;

and their arguments must be integer polynomials with non-negative coefficients in natural
variables (so that Coq's truncated subtraction never enters). ``sqrt(x)`` and ``x^(p/2)`` are
written with Coq's ``sqrt`` only where x >= 0 is shown (Coq's sqrt is 0 on negatives, sympy's is
imaginary); ``pi`` is ``PI``, ``exp`` is ``exp``, ``|x|`` is ``Rabs x``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import sympy

from tpcheck.engines.heads import (
    Avg,
    Expectation,
    GenusSum,
    MatPowVec,
    MatVec,
    MomentSum,
    Probability,
    TracePower,
    Variance,
    narayana,
    ncpairings,
    pairings,
)


class NotExportable(Exception):  # noqa: N818  (a reason, not a failure)
    """A step or term that has no exact Coq statement here; the message is the reason."""


#: Heads of probability and of the width-n programs: a step with one is not algebra.
PROBABILITY_HEADS = (Expectation, Variance, Probability, MomentSum, TracePower, Avg, MatVec,
                     MatPowVec)
#: Counts defined by enumeration in tpcheck; Coq has no definition of them here.
ENUMERATION_HEADS = (pairings, ncpairings, GenusSum)
#: Special functions without a Coq counterpart used here, by the name a reason gives.
SPECIAL_NAMES = {sympy.gamma: "gamma", sympy.erf: "erf", sympy.asin: "arcsin",
                 sympy.acos: "arccos", sympy.atan: "arctan", sympy.tanh: "tanh",
                 sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.sin: "sin", sympy.cos: "cos",
                 sympy.tan: "tan", sympy.log: "log", sympy.Heaviside: "step"}


def coq_name(name: str) -> str:
    """A Coq identifier for a tpcheck name (``v_`` prefix: never a Coq keyword)."""
    return "v_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


@dataclass
class Variables:
    """The variables of one lemma: natural ones (with bounds) and real ones (with signs)."""

    nat: dict[sympy.Symbol, tuple[int, int | None]] = field(default_factory=dict)
    real: dict[sympy.Symbol, str] = field(default_factory=dict)  # "", "pos", "nonneg"


@dataclass
class Translation:
    """A translated side: its Coq text and what a proof of an identity about it needs."""

    text: str
    denominators: list[sympy.Expr]
    rewrites: list[str]  # tactic lines that express counting functions in factorials
    counting: bool  # has counting functions or sums


class Translator:
    """Translate sympy expressions over ``variables`` into Coq terms."""

    def __init__(self, variables: Variables) -> None:
        self.vars = variables
        self.bound: dict[sympy.Symbol, tuple[sympy.Expr, sympy.Expr]] = {}
        self.denominators: list[sympy.Expr] = []
        self.rewrites: list[str] = []
        self.counting = False
        self.roots: list[str] = []  # bases of square roots, as Coq terms

    # -- integers ---------------------------------------------------------------------------
    def nonneg(self, e: sympy.Expr) -> bool:
        """Whether the integer expression ``e`` is >= 0 for every value of the variables
        (linear in each bound index: checked at the ends of its range)."""
        e = sympy.expand(e)
        for sym, (lo, hi) in self.bound.items():
            if e.has(sym):
                if sympy.degree(e, sym) > 1:
                    return False
                return self.nonneg(e.subs(sym, lo)) and self.nonneg(e.subs(sym, hi))
        if e.is_number:
            return bool(e >= 0)
        subs = {s: sympy.Symbol(s.name, integer=True, nonnegative=True) + lo
                for s, (lo, _) in self.vars.nat.items() if s in e.free_symbols}
        return bool(sympy.expand(e.xreplace(subs)).is_nonnegative)

    def nat(self, e: sympy.Expr) -> str:
        """``e`` as a Coq nat term, parenthesised: a polynomial with non-negative integer
        coefficients in the natural variables and bound indices (constants added as ``S``), or
        a difference of two such that is shown non-negative."""
        text = self._nat(e)
        return text if " " not in text or text.startswith("(") and _balanced(text[1:-1]) \
            else f"({text})"

    def _nat(self, e: sympy.Expr) -> str:
        e = sympy.expand(e)
        syms = [s for s in e.free_symbols]
        for s in syms:
            if s not in self.vars.nat and s not in self.bound:
                raise NotExportable(f"'{s}' in a counting argument is not a natural variable")
        if not syms:
            if not (e.is_Integer and e >= 0):
                raise NotExportable(f"counting argument {e} is not a natural number")
            return str(int(e))
        poly = sympy.Poly(e, *sorted(syms, key=str))
        if any(not c.is_Integer for c in poly.coeffs()):
            raise NotExportable(f"counting argument {e} is not an integer polynomial")
        if any(c < 0 for c in poly.coeffs()):
            # truncated subtraction P - N is P - N exactly where P - N >= 0, which is shown
            if not self.nonneg(e):
                raise NotExportable(f"counting argument {e} is not shown non-negative")
            plus = sympy.Add(*[c * sympy.Mul(*[g**k for g, k in zip(poly.gens, monom, strict=True)])
                               for monom, c in poly.terms() if c > 0])
            return f"({self.nat(plus)} - {self.nat(plus - e)})%nat"
        const = 0
        terms: list[str] = []
        for monom, coeff in poly.terms():
            if not any(monom):
                const = int(coeff)
                continue
            factors = [coq_name(s.name) if k == 1 else f"{coq_name(s.name)} ^ {k}"
                       for s, k in zip(poly.gens, monom, strict=True) if k]
            body = " * ".join(factors)
            terms.append(body if coeff == 1 else f"{int(coeff)} * {body}")
        text = " + ".join(sorted(terms))
        if len(terms) > 1 or "^" in text:
            text = f"({text})"
        for _ in range(const):
            text = f"(S {text})"
        return text

    # -- reals ------------------------------------------------------------------------------
    def real(self, e: sympy.Expr) -> str:  # noqa: C901  (one case a head)
        """``e`` as a Coq real term."""
        if isinstance(e, PROBABILITY_HEADS):
            raise NotExportable("an expectation, probability or random object")
        if isinstance(e, ENUMERATION_HEADS):
            raise NotExportable(f"the count {type(e).__name__} has no definition in the Coq prelude")
        if e.is_Integer:
            return str(int(e)) if e >= 0 else f"(- {int(-e)})"
        if e.is_Rational:
            return f"({int(e.p)} / {int(e.q)})" if e > 0 else f"(- ({int(-e.p)} / {int(e.q)}))"
        if e is sympy.pi:
            return "PI"
        if e.is_Symbol:
            if e in self.bound or e in self.vars.nat:
                return f"(INR {coq_name(e.name)})"
            if e in self.vars.real:
                return coq_name(e.name)
            raise NotExportable(f"'{e}' is not a real or natural variable (complex or random)")
        if e.is_Add:
            return "(" + " + ".join(self.real(a) for a in e.args) + ")"
        if e.is_Mul:
            num, den = [], []
            for f in e.args:
                if f.is_Pow and _negative(f.exp):
                    den.append(self.power(f.base, -f.exp))
                    self.denominators.append(f.base)
                elif f.is_Rational and f.p == 1:
                    den.append(str(int(f.q)))
                else:
                    num.append(self.real(f))
            text = " * ".join(num) if num else "1"
            return f"({text} / ({' * '.join(den)}))" if den else f"({text})"
        if e.is_Pow:
            if _negative(e.exp):
                self.denominators.append(e.base)
                return f"(1 / {self.power(e.base, -e.exp)})"
            return self.power(e.base, e.exp)
        if isinstance(e, sympy.exp):
            return f"(exp {self.real(e.args[0])})"
        if isinstance(e, sympy.Abs):
            return f"(Rabs {self.real(e.args[0])})"
        if isinstance(e, sympy.factorial):
            self.counting = True
            return f"(tp_fact {self.nat(e.args[0])})"
        if isinstance(e, sympy.factorial2):
            self.counting = True
            m = sympy.expand(e.args[0] + 1)
            if not self.nonneg(m):
                raise NotExportable(f"double factorial of {e.args[0]}, which may be below -1")
            half = sympy.expand(m / 2)
            if not m.is_number and all(c.is_Integer for c in sympy.Poly(half).coeffs()):
                k = self.nat(half)
                self.rewrites.append(f"rewrite ?(tp_dfm_even {k}).")
                return f"(tp_dfm (2 * {k}))"
            return f"(tp_dfm {self.nat(m)})"
        if isinstance(e, sympy.binomial):
            self.counting = True
            n, k = e.args
            if not (self.nonneg(k) and self.nonneg(n - k)):
                raise NotExportable(f"binomial({n}, {k}) where {k} <= {n} is not shown")
            self._binom_rewrite(n, k)
            return f"(tp_binom {self.nat(n)} {self.nat(k)})"
        if isinstance(e, sympy.catalan):
            self.counting = True
            a = e.args[0]
            if not a.is_number:
                self.rewrites.append("unfold tp_catalan.")
                self._binom_rewrite(2 * a, a)
            return f"(tp_catalan {self.nat(a)})"
        if isinstance(e, narayana):
            self.counting = True
            n, k = e.args
            if not (self.nonneg(k - 1) and self.nonneg(n - k)):
                raise NotExportable(f"narayana({n}, {k}) where 1 <= {k} <= {n} is not shown")
            if not (n.is_number and k.is_number) and not self.bound:
                raise NotExportable("narayana at a symbolic argument is not exported")
            return f"(tp_narayana {self.nat(n)} {self.nat(k)})"
        if isinstance(e, sympy.Sum):
            return self.sum(e)
        if isinstance(e, sympy.Integral):
            raise NotExportable("an integral")
        if isinstance(e, sympy.Limit):
            raise NotExportable("a limit")
        for head, name in SPECIAL_NAMES.items():
            if isinstance(e, head):
                raise NotExportable(f"the special function {name} has no exact Coq counterpart here")
        raise NotExportable(f"no Coq translation of {type(e).__name__}")

    def power(self, base: sympy.Expr, exp: sympy.Expr) -> str:
        """``base^exp`` for a non-negative exponent: natural, half-integer or a natural term."""
        if exp == 1:
            return self.real(base)
        if exp.is_Integer:
            return f"({self.real(base)} ^ {int(exp)})"
        if exp.is_Rational and exp.q == 2:
            if not base.is_nonnegative and not self._nonneg_real(base):
                raise NotExportable(f"a square root of {base}, not shown non-negative")
            inner = self.real(base)
            if inner not in self.roots:
                self.roots.append(inner)
            root = f"(sqrt {inner})"
            return root if exp.p == 1 else f"({root} ^ {int(exp.p)})"
        if exp.is_number:
            raise NotExportable(f"the power {exp} is neither natural nor a half-integer")
        if exp.is_integer and self.nonneg(exp):
            return f"({self.real(base)} ^ {self.nat(exp)})"
        raise NotExportable(f"the exponent {exp} is not shown to be a natural number")

    def _nonneg_real(self, e: sympy.Expr) -> bool:
        subs = {s: sympy.Symbol(s.name, nonnegative=True) + lo
                for s, (lo, _) in self.vars.nat.items() if s in e.free_symbols}
        return bool(sympy.expand(e.xreplace(subs)).is_nonnegative)

    def _binom_rewrite(self, n: sympy.Expr, k: sympy.Expr) -> None:
        """A symbolic binomial is rewritten into factorials: binomial(n, k) = n!/(k! (n-k)!)."""
        if n.is_number and k.is_number or self.bound:
            return
        c = sympy.expand(n - k)
        self.rewrites.append(f"rewrite ?(tp_binom_fact {self.nat(n)} {self.nat(k)} {self.nat(c)}) "
                             "by lia.")

    def sum(self, e: sympy.Sum) -> str:
        """``sum(f, i = lo..hi)`` where lo >= 0 and lo <= hi + 1 are shown."""
        if len(e.limits) != 1:
            raise NotExportable("a sum over several indices")
        (i, lo, hi), = e.limits
        if not (self.nonneg(lo) and self.nonneg(hi - lo + 1)):
            raise NotExportable(f"a sum over {i} = {lo}..{hi} whose range is not shown non-empty "
                                "or empty at its last index")
        self.counting = True
        self.bound[i] = (lo, hi)
        try:
            body = self.real(e.function)
        finally:
            del self.bound[i]
        return f"(tp_sum {self.nat(lo)} {self.nat(hi)} (fun {coq_name(i.name)} : nat => {body}))"


def _balanced(text: str) -> bool:
    """Whether the parentheses of ``text`` balance without closing below depth 0."""
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _negative(exp: sympy.Expr) -> bool:
    """Whether a power's exponent is negative: a negative number or minus a non-negative one."""
    return bool(exp.is_negative or (exp.could_extract_minus_sign() and (-exp).is_nonnegative))


def translate(e: sympy.Expr, variables: Variables) -> Translation:
    """Translate one side; raises :class:`NotExportable` with the reason."""
    t = Translator(variables)
    text = t.real(e)
    return Translation(text, t.denominators, t.rewrites, t.counting)


def free_variables(exprs: Iterable[sympy.Expr]) -> set[sympy.Symbol]:
    """The free symbols of ``exprs`` (bound sum indices excluded)."""
    out: set[sympy.Symbol] = set()
    for e in exprs:
        out |= {s for s in e.free_symbols if isinstance(s, sympy.Symbol)}
    return out
