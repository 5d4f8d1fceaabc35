"""Elaboration: syntax tree -> kernel proof objects over sympy.

Every sympy object is built by calling a constructor on already-built objects; no text is ever
handed to ``sympify``, ``parse_expr``, ``eval`` or ``exec``.

The size model. The parser bounds the text (nesting depth, expression size, steps, theorems);
the elaborator bounds what sympy would build from it, and checks each bound before building,
so that an error names the limit instead of sympy evaluating for hours at construction
(``sqrt(2)^(10^12)`` is 2^(5 * 10^11) to sympy, ``ff(x, 5000)`` a product of 5000 factors):

- every power's exponent is at most :data:`MAX_EXPONENT`, whatever the base, also after
  sympy combines ``(x^a)^b`` into ``x^(a b)``;
- exact numbers have at most :data:`MAX_EXACT_BITS` bits, estimated before a power
  (bits times exponent) or a product (the sum of the factors' bits) is built;
- factorial-like functions take numbers up to :data:`MAX_FACTORIAL_ARG`; sympy multiplies a
  falling or rising factorial of a non-numeric x out into its factors, at most
  :data:`MAX_EXPANDED_FACTORS` of them;
- every expression, after definitions are expanded, has at most :data:`MAX_EXPRESSION_SIZE`
  nodes and depth :data:`MAX_EXPRESSION_DEPTH` (measured node by node as it is built, shared
  sub-expressions counted once for the time and as often as they occur for the size).

Hypotheses that need real mathematics to check (positive semidefinite covariances, possible
moments) are checked here too; ``tpcheck.api`` runs the whole elaboration of a theorem in a
bounded child process, so no input can make reading a file take longer than a step's budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy

from tpcheck.engines import laws as laws_module
from tpcheck.engines.gaussian import erf_kernel, relu_kernel, step_kernel
from tpcheck.engines.heads import (
    Avg,
    Expectation,
    GenusSum,
    LimitLaw,
    MatPowVec,
    MatVec,
    MomentSum,
    Probability,
    TracePower,
    Variance,
    narayana,
    ncpairings,
    pairings,
    relu,
    sech,
)
from tpcheck.engines.networks import MAX_DEPTH as MAX_MLP_DEPTH
from tpcheck.engines.networks import PARAMETRIZATIONS, NetworkOutput, NetworkSpec
from tpcheck.errors import ElaborationError, Position
from tpcheck.kernel.proof import (
    Context,
    Crosschecks,
    Goal,
    MontecarloSettings,
    MpmathSettings,
    Parameter,
    RuleSettings,
    Step,
    Theorem,
)
from tpcheck.kernel.rules import REGISTRY
from tpcheck.lang import ast
from tpcheck.lang.parametrizations import (
    PARAMETRIZATION_HEADS,
    PARAMETRIZATION_LAW,
    declare_parametrization,
    declared_parametrizations,
    parametrization_head,
)
from tpcheck.lang.parser import MAX_DEPTH, MAX_EXPRESSION_SIZE, chain_group, children, fold_chain
from tpcheck.text import expr_text as _t

#: Bits of the largest exact number an expression may produce (about 60 000 digits): exact
#: arithmetic on such numbers takes milliseconds, and 10^10^10 is refused at once.
MAX_EXACT_BITS = 200_000
#: Bits of the largest number a root may be taken of (``sqrt``, ``x^(1/3)``): sympy looks for
#: perfect powers and small factors, 0.1 s at 3000 bits and 2 s at 10 000.
MAX_ROOT_BITS = 4_000
#: The largest number a factorial-like function (factorial, double factorial, gamma,
#: binomial, catalan, ff, rf, narayana, pairings) may take: 5000! has 16 326 digits.
MAX_FACTORIAL_ARG = 5_000
#: The largest exponent of a power, whatever its base: E[Z^(10^4)] is the moment (10^4 - 1)!!,
#: of the size of 5000!; the library's largest exponent is 8.
MAX_EXPONENT = 10_000
#: The most factors sympy may multiply a falling or rising factorial ff(x, k) of a non-numeric
#: x out into: it takes time quadratic in k (1000 factors take seconds).
MAX_EXPANDED_FACTORS = 200
#: Depth of an expression after definitions are expanded: twice the parser's nesting limit
#: (a - b and a/b are two levels to sympy), so that sympy's recursive printing, hashing and
#: comparing in the checker's own process stay far inside Python's recursion limit.
MAX_EXPRESSION_DEPTH = 2 * MAX_DEPTH
#: Syntax nodes elaborated for one expression, a definition's body once per call (a count,
#: like Lean's heartbeats, not a time): 16 definitions g_i(y) = g_(i-1)(g_(i-1)(y)) elaborate
#: 2^16 bodies, of constant size if g_0(y) = y + 1. Twice the largest expression: about 2 s.
MAX_ELABORATION_WORK = 2 * MAX_EXPRESSION_SIZE
#: Bounds on the witness settings of ``crosscheck``: beyond them a witness only runs out of its
#: budget; the seed is printed in every report.
WITNESS_LIMITS = {"digits": (1, 1_000), "instances": (1, 1_000), "samples": (1, 10**9),
                  "seed": (0, 2**63 - 1)}

DOMAINS: dict[str, dict[str, bool]] = {
    "integer": {"integer": True},
    "natural": {"integer": True, "nonnegative": True},
    "positive integer": {"integer": True, "positive": True},
    "real": {"real": True},
    "positive real": {"real": True, "positive": True},
    "nonnegative real": {"real": True, "nonnegative": True},
    "complex": {"complex": True},
}

CONSTANTS = {"pi": sympy.pi, "oo": sympy.oo}


def _factorial_guard(arg: sympy.Expr, pos: Position) -> None:
    """A factorial-like function at a number beyond MAX_FACTORIAL_ARG is refused (sympy
    evaluates it at once, gamma at half-integers too)."""
    if arg.is_Rational and abs(arg) > MAX_FACTORIAL_ARG:
        raise ElaborationError(
            f"argument {_t(arg)} is too large to evaluate exactly (factorial limit "
            f"{MAX_FACTORIAL_ARG})", pos
        )


def _unary(f: Callable[[sympy.Expr], sympy.Expr], guard: bool = False) -> Callable:
    def build(args: list[sympy.Expr], pos: Position) -> sympy.Expr:
        if guard:
            _factorial_guard(args[0], pos)
        return f(args[0])

    return build


def _binary(f: Callable[[sympy.Expr, sympy.Expr], sympy.Expr], expands: bool = False) -> Callable:
    """A factorial-like function of two arguments; ``expands``: sympy multiplies f(x, k) out
    into k factors when x is not a number (ff, rf)."""
    def build(args: list[sympy.Expr], pos: Position) -> sympy.Expr:
        for a in args:
            _factorial_guard(a, pos)
        x, k = args
        if expands and k.is_Integer and abs(k) > MAX_EXPANDED_FACTORS and not x.is_number:
            raise ElaborationError(
                f"{_t(k)} factors are too many to multiply out (expanded-factor limit "
                f"{MAX_EXPANDED_FACTORS}); keep the number of factors symbolic", pos)
        return f(x, k)

    return build


def _exp(args: list[sympy.Expr], pos: Position) -> sympy.Expr:
    """exp, refusing exp(c log b) with a large c: sympy turns it into the power b^c."""
    arg = args[0]
    if arg.has(sympy.log):
        for term in sympy.Add.make_args(arg):
            c = term.as_coeff_Mul()[0]
            if c.is_Rational and abs(c) > MAX_EXPONENT:
                raise ElaborationError(f"exp({_t(arg)}) is a power with an exponent beyond the "
                                       f"exponent limit {MAX_EXPONENT}", pos)
    return sympy.exp(arg)


def _dual(name: str, kernel: Callable[..., sympy.Expr], divides: bool) -> Callable:
    """Builder of a kernel closed form E[phi(u) phi(v)], (u, v) ~ N(0, [[q1, c], [c, q2]]).

    Only a covariance exists: q1 >= 0, q2 >= 0, c^2 <= q1 q2 (else the arc-cosine and erf
    forms leave the reals and a rule could prove a complex "limit"); the arc-cosine forms
    divide by sqrt(q1 q2), so they also need q1 q2 != 0. Arguments that provably break this are
    refused. Symbolic arguments that are not provably admissible are accepted: the result is
    then a closed-form function, an identity between such forms holds wherever they are
    defined, and the master theorem builds them only from covariances shown positive
    semidefinite, so refusing would only forbid kernel algebra over undeclared ranges.
    """
    def build(args: list[sympy.Expr], pos: Position) -> sympy.Expr:
        q1, q2, c = args
        cov = f"[[{_t(q1)}, {_t(c)}], [{_t(c)}, {_t(q2)}]]"
        if any(x.is_extended_real is False for x in args) or q1.is_negative or q2.is_negative \
                or laws_module.provably_nonnegative(q1 * q2 - c**2) is False:
            raise ElaborationError(f"{name}: the covariance {cov} is not positive semidefinite",
                                   pos)
        if divides and (q1 * q2).is_zero:
            raise ElaborationError(f"{name}: the closed form divides by sqrt(q1 q2) = 0 at "
                                   f"the covariance {cov}", pos)
        return kernel(q1, q2, c)

    return build


# name -> (number of arguments, builder)
FUNCTIONS: dict[str, tuple[int, Callable[[list[sympy.Expr], Position], sympy.Expr]]] = {
    "sqrt": (1, _unary(sympy.sqrt)),
    "exp": (1, _exp),
    "log": (1, _unary(sympy.log)),
    "sin": (1, _unary(sympy.sin)),
    "cos": (1, _unary(sympy.cos)),
    "tan": (1, _unary(sympy.tan)),
    "tanh": (1, _unary(sympy.tanh)),
    "sinh": (1, _unary(sympy.sinh)),
    "cosh": (1, _unary(sympy.cosh)),
    "arctan": (1, _unary(sympy.atan)),
    "arcsin": (1, _unary(sympy.asin)),
    "arccos": (1, _unary(sympy.acos)),
    "erf": (1, _unary(sympy.erf)),
    "gamma": (1, _unary(sympy.gamma, guard=True)),
    "factorial": (1, _unary(sympy.factorial, guard=True)),
    "catalan": (1, _unary(sympy.catalan, guard=True)),
    "abs": (1, _unary(sympy.Abs)),
    "binomial": (2, _binary(sympy.binomial)),
    "ff": (2, _binary(sympy.ff, expands=True)),
    "rf": (2, _binary(sympy.rf, expands=True)),
    "narayana": (2, _binary(narayana)),
    "pairings": (1, _unary(pairings, guard=True)),
    "relu": (1, _unary(relu)),
    "step": (1, _unary(sympy.Heaviside)),
    "sech": (1, _unary(sech)),
    "relu_dual": (3, _dual("relu_dual", relu_kernel, divides=True)),
    "step_dual": (3, _dual("step_dual", step_kernel, divides=True)),
    "erf_dual": (3, _dual("erf_dual", erf_kernel, divides=False)),
}
BINDERS = ("sum", "prod", "integral")


@dataclass
class _Definition:
    """``let f(y) = body``: the body over formal symbols (checked once, where it is written),
    and its syntax, elaborated again at every call with the arguments' values, so that the
    size model sees every power and factorial the call makes (substituting values into the
    formal body would let sympy evaluate y^10000 at y = 10^2000 unchecked)."""

    body: sympy.Expr  # over the formal symbols; the value itself when there are no parameters
    names: tuple[str, ...]
    syntax: ast.Node


@dataclass
class _Scope:
    symbols: dict[str, sympy.Symbol] = field(default_factory=dict)
    families: dict[str, laws_module.IIDFamily] = field(default_factory=dict)
    matrices: dict[str, sympy.Symbol] = field(default_factory=dict)
    tp_matrices: dict[str, sympy.Symbol] = field(default_factory=dict)
    matrix_defs: dict[str, dict[tuple[sympy.Symbol, int], sympy.Expr]] = field(default_factory=dict)
    definitions: dict[str, _Definition] = field(default_factory=dict)
    mlps: dict[str, NetworkSpec] = field(default_factory=dict)
    parametrizations: dict[str, Any] = field(default_factory=dict)  # tpcheck.lang.parametrizations
    bound: dict[str, sympy.Symbol] = field(default_factory=dict)
    # checks of the hypotheses that may use the assumptions, run once those are read: each
    # takes the slacks (expressions the assumptions make >= 0)
    obligations: list[Callable[[list[sympy.Expr]], None]] = field(default_factory=list)


def _rational(text: str) -> sympy.Rational:
    """The exact rational a literal denotes: ``0.25`` is 1/4, ``1e-19`` is 1/10^19."""
    mantissa, _, exponent = text.lower().partition("e")
    if exponent:
        return _rational(mantissa) * sympy.Integer(10) ** int(exponent)
    if "." in text:
        whole, frac = text.split(".")
        return sympy.Rational(int(whole + frac), 10 ** len(frac))
    return sympy.Integer(int(text))


@dataclass(frozen=True)
class _Measure:
    """What the size model knows of an expression: its tree size (capped just past the limit),
    depth, the bits of its largest exact number, and its largest numeric exponent."""

    size: int
    depth: int
    bits: int
    exponent: sympy.Rational


_SIZE_CAP = MAX_EXPRESSION_SIZE + 1
_LEAF = _Measure(1, 1, 0, sympy.Integer(0))


def _number_bits(e: sympy.Basic) -> int:
    if isinstance(e, sympy.Rational):
        return max(abs(e.p), e.q).bit_length()
    return 0


class Elaborator:
    def __init__(self, scope: _Scope, laws: dict | None = None) -> None:
        self.scope = scope
        self.laws: dict = {} if laws is None else laws
        self._measures: dict[sympy.Basic, _Measure] = {}
        self.work = 0  # nodes elaborated for the current expression, bodies once per call
        self.level = 0  # nesting of the node being elaborated, through definitions' bodies
        self.top = Position(1, 1)  # where the current (outermost) expression starts
        self.slacks: list[sympy.Expr] = []  # what the assumptions make >= 0, once they are read

    def measure(self, e: sympy.Basic) -> _Measure:
        """The size model's measure of ``e``, computed once for each distinct sub-expression
        (with an explicit stack: no recursion)."""
        known = self._measures
        if e in known:
            return known[e]
        stack: list[tuple[sympy.Basic, bool]] = [(e, False)]
        while stack:
            x, ready = stack.pop()
            if x in known:
                continue
            args = x.args if isinstance(x, sympy.Basic) else ()
            if not ready:
                stack.append((x, True))
                stack.extend((a, False) for a in args if a not in known)
                continue
            parts = [known[a] for a in args] or [_LEAF]
            exponent = max((p.exponent for p in parts), default=sympy.Integer(0))
            if isinstance(x, sympy.Pow) and x.exp.is_Rational:
                exponent = max(exponent, abs(x.exp))
            known[x] = _Measure(
                min(_SIZE_CAP, 1 + sum(p.size for p in parts) - (0 if args else 1)),
                1 + max(p.depth for p in parts) - (0 if args else 1),
                max([_number_bits(x), *(p.bits for p in parts)]),
                exponent,
            )
        return known[e]

    def bounded(self, e: sympy.Expr, pos: Position) -> sympy.Expr:
        """``e``, once its size and depth are shown inside the limits."""
        m = self.measure(e)
        if m.size > MAX_EXPRESSION_SIZE:
            raise ElaborationError(
                f"expression too large after expanding definitions (more than "
                f"{MAX_EXPRESSION_SIZE} nodes; size limit {MAX_EXPRESSION_SIZE})", pos)
        if m.depth > MAX_EXPRESSION_DEPTH:
            raise ElaborationError(
                f"expression nested too deeply after expanding definitions (depth {m.depth}; "
                f"depth limit {MAX_EXPRESSION_DEPTH})", pos)
        if m.bits > MAX_EXACT_BITS:
            raise ElaborationError(f"a number in this expression is too large to hold exactly "
                                   f"({m.bits} bits; limit {MAX_EXACT_BITS})", pos)
        return e

    def expr(self, node: ast.Node) -> sympy.Expr:
        """The sympy expression of ``node``, within the size model. sympy's own refusals
        (``ValueError`` and the like from a constructor) become errors at the node."""
        if not self.level:
            self.work, self.top = 0, node.pos
        self.work += 1
        if self.work > MAX_ELABORATION_WORK:
            raise ElaborationError(f"this expression, with its definitions expanded, takes more "
                                   f"than {MAX_ELABORATION_WORK} steps to build (work limit "
                                   f"{MAX_ELABORATION_WORK})", self.top)
        self.level += 1
        try:
            if self.level > MAX_EXPRESSION_DEPTH:
                raise ElaborationError(f"expression nested too deeply after expanding "
                                       f"definitions (depth limit {MAX_EXPRESSION_DEPTH})",
                                       self.top)
            value = self.build(node)
        except (ValueError, TypeError, ArithmeticError, NotImplementedError) as exc:
            raise ElaborationError(f"cannot build this expression: {type(exc).__name__}: "
                                   f"{_t(str(exc))}", node.pos) from None
        finally:
            self.level -= 1
        return self.bounded(value, node.pos)

    def build(self, node: ast.Node) -> sympy.Expr:  # noqa: C901
        if isinstance(node, ast.Num):
            return _rational(node.text)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp) and node.op == "*" and self.scope.tp_matrices:
            product = self.matrix_times(node)
            if product is not None:
                return product
        group = chain_group(node)
        if group == ("+", "-") or (group is not None and not self.scope.tp_matrices):
            return self.fold(node)
        if isinstance(node, ast.BinOp):
            a, b = self.expr(node.left), self.expr(node.right)
            if node.op in ("*", "implicit"):
                self.product_guard([a, b], node.pos)
                return a * b
            if node.op == "/":
                if b.is_zero:
                    raise ElaborationError("division by zero", node.pos)
                self.product_guard([a, b], node.pos)
                return a / b
            if node.op == "^":
                return self.power(a, b, node.pos)
        if isinstance(node, ast.Neg):
            return -self.expr(node.operand)
        if isinstance(node, ast.Postfix):
            x = self.expr(node.operand)
            _factorial_guard(x, node.pos)
            return sympy.factorial(x) if node.op == "!" else sympy.factorial2(x)
        if isinstance(node, ast.Abs):
            return sympy.Abs(self.expr(node.operand))
        if isinstance(node, ast.Expect):
            return Expectation(self.expr(node.arg))
        if isinstance(node, ast.Var):
            return Variance(self.expr(node.arg))
        if isinstance(node, ast.Prob):
            # Built as sympy rebuilds it from a pickle (evaluated), so that the event is the
            # same in the child that reads the theorem and in the checker (an unevaluated
            # 1 = 2 came back as False, a comparison of non-reals as a TypeError).
            rel = {"=": sympy.Eq, "<=": sympy.Le, "<": sympy.Lt, ">=": sympy.Ge, ">": sympy.Gt}
            return Probability(rel[node.rel](self.expr(node.lhs), self.expr(node.rhs)))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Index):
            fam = self.scope.families.get(node.name)
            if fam is None:
                raise ElaborationError(
                    f"'{node.name}' is not an iid family (declare: let {node.name}[1..n] iid ...)",
                    node.pos)
            if len(node.indices) != 1:
                raise ElaborationError(f"'{node.name}' takes one index", node.pos)
            member = fam.base[self.expr(node.indices[0])]
            self.check_members(member, node.pos)
            return member
        if isinstance(node, ast.ListExpr):
            raise ElaborationError("a list is not a number", node.pos)
        if isinstance(node, ast.Keyword):
            raise ElaborationError(f"a named argument '{node.var} = ...' is only allowed in "
                                   "MLP(...) or Parametrization(...)", node.pos)
        if isinstance(node, ast.Binding | ast.Member):
            raise ElaborationError("a binding 'i = a..b' is only allowed in sum, prod or a rule",
                                   node.pos)
        raise ElaborationError(f"cannot elaborate {type(node).__name__}", node.pos)

    def fold(self, node: ast.BinOp) -> sympy.Expr:
        """A chain ``a + b - c`` or ``a * b / c``, folded in a loop and built in one sympy call
        (adding 10^4 terms one at a time would take time quadratic in their number)."""
        first, links = fold_chain(node)
        operands = [self.expr(first)]
        for link in links:
            value = self.expr(link.right)
            if link.op == "-":
                value = -value
            elif link.op == "/":
                if value.is_zero:
                    raise ElaborationError("division by zero", link.pos)
                value = 1 / value
            operands.append(value)
        if links[0].op in ("+", "-"):
            return sympy.Add(*operands)
        self.product_guard(operands, node.pos)
        return sympy.Mul(*operands)

    def product_guard(self, factors: list[sympy.Expr], pos: Position) -> None:
        """A product's exact numbers have at most the sum of its factors' bits: refuse it
        before it is built when that sum is beyond MAX_EXACT_BITS."""
        bits = sum(self.measure(f).bits for f in factors)
        if bits > MAX_EXACT_BITS:
            raise ElaborationError(f"the product's exact numbers may need {bits} bits, too "
                                   f"many to hold exactly (limit {MAX_EXACT_BITS})", pos)

    def check_members(self, expr: sympy.Expr, pos: Position,
                      bound: tuple[sympy.Symbol, sympy.Expr, sympy.Expr] | None = None) -> None:
        """Every member X[i] of an iid family in ``expr`` has an integer index inside the
        declared range lo..hi (where that is decided); a member outside is no variable of the
        hypothesis, and its moments would be anyone's guess. With ``bound`` = (i, a, b), an
        index of degree <= 1 in the summation variable i is checked at i = a and i = b."""
        families = {f.base.label: f for f in self.scope.families.values()}
        for member in expr.atoms(sympy.Indexed):
            fam = families.get(member.base.label)
            if fam is None:
                continue
            index = member.indices[0]
            if bound is not None:
                i, a, b = bound
                if i not in index.free_symbols or not index.is_polynomial(i) or \
                        sympy.degree(index, i) > 1:
                    continue
                ends = [index.xreplace({i: a}), index.xreplace({i: b})]
            else:
                ends = [index]
            for at in ends:
                if at.is_integer is False:
                    raise ElaborationError(f"{_t(member.base)}[{_t(at)}]: a member's index must be an "
                                           "integer", pos)
                if (at - fam.lo).is_negative or (fam.hi - at).is_negative:
                    raise ElaborationError(f"{_t(member.base)}[{_t(at)}] is outside the declared range "
                                           f"{_t(fam.lo)}..{_t(fam.hi)} of the family", pos)

    def power(self, a: sympy.Expr, b: sympy.Expr, pos: Position) -> sympy.Expr:
        """``a^b``, refused before sympy builds it when the exponent, or the exact number it
        would make, is beyond the limits, whatever the base: sympy evaluates sqrt(2)^(10^12)
        as 2^(5 10^11) and gamma(1/2)^(10^9) as pi^(5 10^8) at construction."""
        if a == 0 and b.is_negative:
            raise ElaborationError("division by zero (0 to a negative power)", pos)
        if b.is_Rational:
            inner = self.measure(a)
            exponent = abs(b) * max(sympy.Integer(1), inner.exponent)
            if exponent > MAX_EXPONENT:
                shown = _t(b) if exponent == abs(b) else f"{_t(b)} (with the base's, {_t(exponent)})"
                raise ElaborationError(f"exponent {shown} is too large (exponent limit "
                                       f"{MAX_EXPONENT})", pos)
            bits = int(abs(b) * max(1, inner.bits))
            if inner.bits and bits > MAX_EXACT_BITS:
                raise ElaborationError(
                    f"{_t(a)}^{_t(b)} is too large to hold exactly (about {bits} bits; "
                    f"limit {MAX_EXACT_BITS})", pos
                )
            if b.q != 1 and inner.bits > MAX_ROOT_BITS:
                raise ElaborationError(
                    f"a root of a {inner.bits}-bit number is too costly to take exactly (root "
                    f"limit {MAX_ROOT_BITS} bits)", pos)
        return a**b

    def name(self, node: ast.Name) -> sympy.Expr:
        s = self.scope
        if node.id in s.bound:
            return s.bound[node.id]
        if node.id in s.symbols:
            return s.symbols[node.id]
        if node.id in s.definitions:
            d = s.definitions[node.id]
            if d.names:
                raise ElaborationError(f"'{node.id}' is a function of {len(d.names)} "
                                       "argument(s); call it", node.pos)
            return d.body
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in s.mlps:
            raise ElaborationError(f"'{node.id}' is a network; write nngp({node.id}, x, y) or "
                                   f"ntk({node.id}, x, y)", node.pos)
        if node.id in declared_parametrizations(s):
            raise ElaborationError(f"'{node.id}' is a parametrization; ask a question of it: "
                                   f"stable({node.id}), r({node.id}), ...", node.pos)
        if node.id in s.families:
            raise ElaborationError(f"'{node.id}' is an iid family; write a member, {node.id}[i]",
                                   node.pos)
        if node.id in s.matrices:
            raise ElaborationError(f"'{node.id}' is a random matrix; it appears inside tr(...)",
                                   node.pos)
        if node.id in s.tp_matrices or node.id in s.matrix_defs:
            raise ElaborationError(f"'{node.id}' is a matrix; multiply a vector with it: {node.id}*x",
                                   node.pos)
        if node.id in FUNCTIONS or node.id in BINDERS:
            raise ElaborationError(f"'{node.id}' is a function; call it with arguments", node.pos)
        raise ElaborationError(
            f"'{node.id}' is not declared (declare it with 'let {node.id} : real', "
            f"'for all {node.id} >= 0', or 'let {node.id} ~ Normal(0, 1)')", node.pos
        )

    def call(self, node: ast.Call) -> sympy.Expr:
        s = self.scope
        if node.func in s.definitions:
            d = s.definitions[node.func]
            if len(node.args) != len(d.names):
                raise ElaborationError(
                    f"'{node.func}' takes {len(d.names)} argument(s), got {len(node.args)}",
                    node.pos)
            values = [self.expr(a) for a in node.args]
            outer, s.bound = s.bound, dict(zip(d.names, values, strict=True))
            try:
                body = self.expr(d.syntax)
            except ElaborationError as exc:
                # reported where the definition is used, the outermost use of nested ones
                message = getattr(exc, "unexpanded", exc.message)
                error = ElaborationError(f"{message} (in the expansion of '{node.func}')",
                                         node.pos)
                error.unexpanded = message
                raise error from None
            finally:
                s.bound = outer
            self.check_members(body, node.pos)
            return body
        if node.func in BINDERS:
            return self.binder(node)
        if node.func == "tr":
            return self.trace(node)
        if node.func in NETWORK_HEADS:
            return self.mlp_head(node)
        if node.func in PARAMETRIZATION_HEADS:
            return parametrization_head(self, node)
        if node.func == "avg":
            if len(node.args) != 1:
                raise ElaborationError("avg takes one vector expression", node.pos)
            return Avg(self.expr(node.args[0]))
        if node.func == "genus_sum":
            if len(node.args) != 2:
                raise ElaborationError("write genus_sum(n, k)", node.pos)
            return GenusSum(self.expr(node.args[0]), self.expr(node.args[1]))
        if node.func == "ncpairings":
            if len(node.args) != 1:
                raise ElaborationError("write ncpairings(m)", node.pos)
            return ncpairings(self.expr(node.args[0]))
        if node.func == "moment_sum":
            if len(node.args) != 3 or not isinstance(node.args[0], ast.Name) or \
                    node.args[0].id not in s.families:
                raise ElaborationError("write moment_sum(X, n, k) with X an iid family", node.pos)
            fam = s.families[node.args[0].id]
            return MomentSum(fam.base.label, self.expr(node.args[1]), self.expr(node.args[2]))
        if node.func not in FUNCTIONS:
            known = ", ".join(sorted([*FUNCTIONS, *BINDERS, "moment_sum", "tr", "genus_sum",
                                      "ncpairings", "avg", "transpose"]))
            raise ElaborationError(f"unknown function '{node.func}' (known: {known})", node.pos)
        arity, build = FUNCTIONS[node.func]
        if len(node.args) != arity:
            raise ElaborationError(
                f"'{node.func}' takes {arity} argument(s), got {len(node.args)}", node.pos
            )
        args = [self.expr(a) for a in node.args]
        if node.func == "sqrt":
            return self.power(args[0], sympy.Rational(1, 2), node.pos)
        return build(args, node.pos)

    def mlp_input(self, node: ast.Node) -> tuple[sympy.Expr, ...]:
        """An input of a declared MLP: a list [x_1, ..., x_d] of real numbers or symbols."""
        if not isinstance(node, ast.ListExpr) or not node.items:
            raise ElaborationError("an MLP's input is a list of coordinates, e.g. [1, 1, -1]",
                                   node.pos)
        x = tuple(self.expr(i) for i in node.items)
        if any(c.is_extended_real is not True for c in x):
            raise ElaborationError("an MLP's input must have real coordinates (declare its "
                                   "symbols real)", node.pos)
        return x

    def mlp_output(self, node: ast.Call) -> sympy.Expr:
        """``output(f, x)``: the output of a declared MLP f on the input x, a random variable."""
        if len(node.args) != 2 or not isinstance(node.args[0], ast.Name) or \
                node.args[0].id not in self.scope.mlps:
            raise ElaborationError("write output(f, [x1, ..., xd]) for a declared MLP f", node.pos)
        spec = self.scope.mlps[node.args[0].id]
        x = self.mlp_input(node.args[1])
        if x not in spec.inputs:
            raise ElaborationError(f"an input of output({spec.name}, ...) was not seen when "
                                   f"{spec.name} was declared", node.pos)
        return NetworkOutput(sympy.Symbol(spec.name), sympy.Tuple(*x))

    def mlp_head(self, node: ast.Call) -> sympy.Expr:
        """``nngp(f, x, y)`` and ``ntk(f, x, y)`` of a declared MLP f, and the limits the
        recursions give, ``nngp_limit(f, x, y)`` and ``ntk_limit(f, x, y)``
        (:mod:`tpcheck.engines.networks`)."""
        if node.func == "output":
            return self.mlp_output(node)
        if len(node.args) != 3 or not isinstance(node.args[0], ast.Name):
            raise ElaborationError(f"write {node.func}(f, [x1, ..., xd], [y1, ..., yd]) for a "
                                   "declared MLP f", node.pos)
        spec = self.scope.mlps.get(node.args[0].id)
        if spec is None:
            raise ElaborationError(f"'{node.args[0].id}' is not a declared MLP (let "
                                   f"{node.args[0].id} ~ MLP(n, depth = ..., phi = ...))", node.pos)
        x, y = self.mlp_input(node.args[1]), self.mlp_input(node.args[2])
        if x not in spec.inputs or y not in spec.inputs:  # collected when f was declared
            raise ElaborationError(f"an input of {node.func}({spec.name}, ...) was not seen when "
                                   f"{spec.name} was declared", node.pos)
        if node.func.endswith("_limit"):
            try:
                return spec.recursion(node.func.removesuffix("_limit"), x, y)
            except ValueError as exc:
                raise ElaborationError(f"{node.func}: {exc}", node.pos) from None
        if node.func == "nngp":
            return spec.nngp(x, y)
        if spec.parametrization != "ntk":
            raise ElaborationError("ntk(...) of a network in the standard parametrization grows "
                                   "with the width n; declare parametrization = ntk (or use "
                                   "tpcheck.nn.nt_kernels(..., width=n))", node.pos)
        if spec.phi_prime(sympy.Symbol("t", real=True)).has(sympy.DiracDelta):
            raise ElaborationError(f"ntk(...): the derivative of {spec.phi_name} is a delta "
                                   "(its parameter gradients vanish almost everywhere)", node.pos)
        return spec.ntk(x, y)

    def matrix_expr(self, node: ast.Node) -> dict[tuple[sympy.Symbol, int], sympy.Expr] | None:
        """A linear combination of Gaussian matrices and transposes, {(A, t): c}, or None."""
        s = self.scope
        if isinstance(node, ast.Name):
            if node.id in s.tp_matrices:
                return {(s.tp_matrices[node.id], 0): sympy.Integer(1)}
            if node.id in s.matrix_defs:
                return dict(s.matrix_defs[node.id])
            return None
        if isinstance(node, ast.Call) and node.func == "transpose" and len(node.args) == 1:
            inner = self.matrix_expr(node.args[0])
            if inner is None:
                raise ElaborationError("transpose(...) takes a matrix", node.pos)
            return {(a, 1 - t): c for (a, t), c in inner.items()}
        if isinstance(node, ast.Neg):
            inner = self.matrix_expr(node.operand)
            return None if inner is None else {k: -c for k, c in inner.items()}
        if isinstance(node, ast.BinOp) and node.op in ("+", "-"):
            left, right = self.matrix_expr(node.left), self.matrix_expr(node.right)
            if left is None or right is None:
                return None
            out = dict(left)
            for k, c in right.items():
                out[k] = out.get(k, 0) + (c if node.op == "+" else -c)
            return out
        if isinstance(node, ast.BinOp) and node.op in ("*", "/", "implicit"):
            m = self.matrix_expr(node.left)
            if m is not None:
                c = self.expr(node.right)
                if self.is_vector(c):
                    return None  # a matrix times a vector: not a matrix
                return {k: v * c if node.op != "/" else v / c for k, v in m.items()}
            if node.op != "/":
                m = self.matrix_expr(node.right)
                if m is not None:
                    c = self.expr(node.left)
                    return None if self.is_vector(c) else {k: c * v for k, v in m.items()}
        return None

    def is_vector(self, e: sympy.Expr) -> bool:
        """Whether ``e`` involves a width-n vector (an initial vector or a matrix product)."""
        if e.has(MatVec, MatPowVec):
            return True
        return any(isinstance(self.laws.get(s), laws_module.InitialVectors) for s in e.free_symbols)

    def matrix_times(self, node: ast.BinOp) -> sympy.Expr | None:
        """M * x for a matrix expression M (or M^k) and a vector expression x."""
        left = node.left
        power = None
        if isinstance(left, ast.BinOp) and left.op == "^":
            if self.matrix_expr(left.left) is None:
                return None
            power = self.matrix_exponent(left.right)
            left = left.left
        m = self.matrix_expr(left)
        if m is None:
            return None
        x = self.expr(node.right)
        if power is not None:
            spec = sympy.Tuple(*[sympy.Tuple(a, t, c) for (a, t), c in sorted(m.items(), key=str)])
            return MatPowVec(spec, power, x)
        return sympy.Add(*[c * MatVec(a, sympy.Integer(t), x) for (a, t), c in m.items()])

    def matrix_exponent(self, node: ast.Node) -> sympy.Expr:
        """The power of a matrix (``W^k*x``, ``tr(M^k)``), within the exponent limit."""
        power = self.expr(node)
        if power.is_Rational and abs(power) > MAX_EXPONENT:
            raise ElaborationError(f"exponent {_t(power)} is too large (exponent limit "
                                   f"{MAX_EXPONENT})", node.pos)
        return power

    def trace(self, node: ast.Call) -> sympy.Expr:
        """tr(M), tr(M^k), tr((c M)^k), tr((M/c)^k) for a declared random matrix M."""
        if len(node.args) != 1:
            raise ElaborationError("tr takes one argument", node.pos)
        arg = node.args[0]
        power: sympy.Expr = sympy.Integer(1)
        if isinstance(arg, ast.BinOp) and arg.op == "^":
            power = self.matrix_exponent(arg.right)
            arg = arg.left
        scale: sympy.Expr = sympy.Integer(1)
        if isinstance(arg, ast.BinOp) and arg.op in ("*", "/", "implicit"):
            left_is_m = isinstance(arg.left, ast.Name) and arg.left.id in self.scope.matrices
            right_is_m = isinstance(arg.right, ast.Name) and arg.right.id in self.scope.matrices
            if arg.op == "/" and left_is_m:
                scale, arg = 1 / self.expr(arg.right), arg.left
            elif arg.op != "/" and left_is_m:
                scale, arg = self.expr(arg.right), arg.left
            elif arg.op != "/" and right_is_m:
                scale, arg = self.expr(arg.left), arg.right
        if not (isinstance(arg, ast.Name) and arg.id in self.scope.matrices):
            raise ElaborationError("tr(...) takes a power of one random matrix, e.g. tr((M/sqrt(n))^4)",
                                   node.pos)
        if not (power.is_integer and power.is_nonnegative):
            raise ElaborationError("the power inside tr must be a natural number", node.pos)
        return scale**power * TracePower(self.scope.matrices[arg.id], power)

    def bind(self, var: str, pos: Position, **assumptions: bool) -> sympy.Symbol:
        if var in self.scope.bound or var in self.scope.symbols:
            raise ElaborationError(f"'{var}' is already in use; pick another bound variable", pos)
        sym = sympy.Symbol(var, **assumptions)
        self.scope.bound[var] = sym
        return sym

    def binder(self, node: ast.Call) -> sympy.Expr:
        if node.func == "integral":
            if len(node.args) == 2 and isinstance(node.args[1], ast.Binding):
                body, b = node.args
                var, lo_node, hi_node = b.var, b.lo, b.hi
            elif len(node.args) == 4 and isinstance(node.args[1], ast.Name):
                body, name, lo_node, hi_node = node.args
                var = name.id
            else:
                raise ElaborationError("write integral(f, x, a, b) or integral(f, x = a..b)",
                                       node.pos)
            lo, hi = self.expr(lo_node), self.expr(hi_node)
            sym = self.bind(var, node.pos, real=True)
            try:
                return sympy.Integral(self.expr(body), (sym, lo, hi))
            finally:
                del self.scope.bound[var]
        if len(node.args) != 2 or not isinstance(node.args[1], ast.Binding):
            raise ElaborationError(f"write {node.func}(expr, i = a..b)", node.pos)
        body, b = node.args
        lo, hi = self.expr(b.lo), self.expr(b.hi)
        sym = self.bind(b.var, b.pos, integer=True)
        try:
            cls = sympy.Sum if node.func == "sum" else sympy.Product
            inner = self.expr(body)
        finally:
            del self.scope.bound[b.var]
        if (hi - lo).is_negative is not True:  # an empty sum has no members to check
            self.check_members(inner, node.pos, (sym, lo, hi))
        return cls(inner, (sym, lo, hi))


def _integer_literal(el: Elaborator, node: ast.Node, what: str) -> int:
    v = el.expr(node)
    if not v.is_Integer:
        raise ElaborationError(f"{what} must be an integer, not {_t(v)}", node.pos)
    return int(v)


MAX_PARAM_BOUND = 10**12


def elaborate_theorem(t: ast.Theorem, source_lines: list[str]) -> Theorem:
    scope = _Scope()
    laws: dict[sympy.Symbol, Any] = {}
    el = Elaborator(scope, laws)
    params: list[Parameter] = []

    def declare(name: str, pos: Position, **assumptions: bool) -> sympy.Symbol:
        if name in scope.symbols or name in scope.definitions or name in scope.mlps or \
                name in declared_parametrizations(scope):
            raise ElaborationError(f"'{name}' is declared twice", pos)
        if name in FUNCTIONS or name in BINDERS or name in CONSTANTS or name in ("E", "P", "Var"):
            raise ElaborationError(f"'{name}' is a built-in name and cannot be declared", pos)
        sym = sympy.Symbol(name, **assumptions)
        scope.symbols[name] = sym
        return sym

    for p in t.params:
        lo = _integer_literal(el, p.lo, "a parameter's lower bound")
        hi = None if p.hi is None else _integer_literal(el, p.hi, "a parameter's upper bound")
        if abs(lo) > MAX_PARAM_BOUND or (hi is not None and abs(hi) > MAX_PARAM_BOUND):
            raise ElaborationError(f"bounds of '{p.var}' exceed {MAX_PARAM_BOUND:.0e}", p.pos)
        if hi is not None and hi < lo:
            raise ElaborationError(f"empty range {lo}..{hi} for '{p.var}'", p.pos)
        assumptions = {"integer": True}
        if lo >= 1:
            assumptions["positive"] = True
        elif lo >= 0:
            assumptions["nonnegative"] = True
        params.append(Parameter(declare(p.var, p.pos, **assumptions), lo, hi))

    for item in t.lets:
        if isinstance(item, ast.LetDomain):
            for name, pos in item.names:
                declare(name, pos, **DOMAINS[item.domain])
        elif isinstance(item, ast.LetLaw) and item.law.func == PARAMETRIZATION_LAW:
            declare_parametrization(el, item, declare)
        elif isinstance(item, ast.LetLaw) and item.law.func == "MLP":
            _mlp_law(el, item, declare, laws, t)
        elif isinstance(item, ast.LetLaw) and item.law.func in ("Matrix", "Vector"):
            _tensor_program_law(el, item, declare, laws)
        elif isinstance(item, ast.LetLaw) and item.law.func in MATRIX_LAWS:
            ensemble = _matrix_law(el, item)
            for name, pos in item.names:
                sym = declare(name, pos)
                scope.matrices[name] = sym
                laws[sym] = ensemble
        elif isinstance(item, ast.LetLaw):
            if item.moments:
                raise ElaborationError("'with' moments are for iid families and Wigner matrices",
                                       item.pos)
            if item.law.func == "Normal" and any(isinstance(a, ast.ListExpr) for a in item.law.args):
                names = [declare(name, pos, real=True) for name, pos in item.names]
                vector = _gaussian_vector(el, item.law, names)
                for i, sym in enumerate(names):
                    laws[sym] = laws_module.GaussianComponent(vector, i)
                continue
            law = _law(el, item.law)
            for name, pos in item.names:
                laws[declare(name, pos, real=True)] = law
        elif isinstance(item, ast.LetFamily):
            fam = _family(el, item, declare)
            laws[fam.base.label] = fam
            scope.families[item.name] = fam
        elif isinstance(item, ast.LetDef) and not item.params and scope.tp_matrices and \
                el.matrix_expr(item.body) is not None:
            scope.matrix_defs[item.name] = el.matrix_expr(item.body)
        elif isinstance(item, ast.LetDef):
            if item.name in scope.symbols or item.name in scope.definitions:
                raise ElaborationError(f"'{item.name}' is declared twice", item.pos)
            formal = tuple(sympy.Symbol(f"{item.name}.{p}") for p in item.params)
            for p, sym in zip(item.params, formal, strict=True):
                scope.bound[p] = sym
            try:
                body = el.expr(item.body)
            finally:
                for p in item.params:
                    scope.bound.pop(p, None)
            scope.definitions[item.name] = _Definition(body, item.params, item.body)

    assumptions = [(el.expr(a.lhs), a.rel, el.expr(a.rhs)) for a in t.assumptions]
    slacks = _slacks(assumptions)
    el.slacks = slacks
    for check in scope.obligations:
        check(slacks)
    assert t.claim is not None and t.chain is not None
    claim = _goal(el, t.claim.lhs, t.claim.rel, t.claim.rhs, t.claim.limit_var, t.claim.pos,
                  t.claim.tolerance)
    in_law = t.claim.rel == "~>"
    start = _side(el, t.chain.start, in_law)
    steps: list[Step] = []
    previous = start
    for link in t.chain.links:
        rhs = _limit_law(el, link.expr) if link.rel == "~>" else _side(el, link.expr, in_law)
        goal = _goal_from(el, previous, link.rel, rhs, link.limit_var, link.pos,
                          _tolerance(el, link.tolerance))
        if link.rule.name not in REGISTRY:
            known = ", ".join(sorted(REGISTRY))
            raise ElaborationError(f"unknown rule '{link.rule.name}' (known rules: {known})",
                                   link.rule.pos)
        args = tuple(_rule_arg(el, a) for a in link.rule.args)
        line = link.pos.line
        source = source_lines[line - 1].strip() if 0 < line <= len(source_lines) else ""
        steps.append(Step(line, link.pos.col, goal, link.rule.name, args, source))
        previous = rhs

    mpmath: dict[str, Any] = {}
    montecarlo: list[dict[str, Any]] = []
    for c in t.crosschecks:
        if c.kind not in ("mpmath", "montecarlo"):
            raise ElaborationError(f"unknown witness '{c.kind}' (mpmath or montecarlo)", c.pos)
        entry = mpmath if c.kind == "mpmath" else {}
        if c.kind == "montecarlo":
            montecarlo.append(entry)
        for key, node in c.settings:
            if key not in WITNESS_SETTINGS[c.kind]:
                raise ElaborationError(
                    f"unknown {c.kind} setting '{key}' (known: "
                    f"{', '.join(WITNESS_SETTINGS[c.kind])})", node.pos)
            value = _integer_literal(el, node, f"crosscheck setting '{key}'")
            lo, hi = WITNESS_LIMITS[key]
            if not lo <= value <= hi:
                raise ElaborationError(f"crosscheck setting '{key}' must be in {lo}..{hi}",
                                       node.pos)
            entry[key] = value
        if c.param is not None:
            sym = scope.symbols.get(c.param.var)
            if sym is None:
                raise ElaborationError(f"'{c.param.var}' is not a declared symbol", c.param.pos)
            bounds = (_integer_literal(el, c.param.lo, "a bound"),
                      _integer_literal(el, c.param.hi, "a bound"))
            if max(map(abs, bounds)) > MAX_PARAM_BOUND:
                raise ElaborationError(f"range bounds exceed {MAX_PARAM_BOUND:.0e}", c.param.pos)
            entry["range"] = (sym, *bounds)
        if c.laws or c.fixed:
            if c.kind != "montecarlo":
                raise ElaborationError("'law' and 'at' are montecarlo settings", c.pos)
            entry["laws"] = {}
            for name, call in c.laws:
                fam = scope.families.get(name)
                if fam is not None:
                    entry["laws"][fam.base.label] = _law(el, call)
                elif name in scope.matrices:
                    entry["laws"][scope.matrices[name]] = _law(el, call)
                else:
                    raise ElaborationError(
                        f"'{name}' is not an iid family or a Wigner matrix of this theorem", call.pos)
            entry["fixed"] = {}
            for name, node in c.fixed:
                sym = scope.symbols.get(name)
                if sym is None:
                    raise ElaborationError(f"'{name}' is not a declared symbol", node.pos)
                value = el.expr(node)
                if not value.is_Rational:
                    raise ElaborationError(f"'{name}' must be fixed to a rational number", node.pos)
                entry["fixed"][sym] = value

    # the one place where the crosscheck lines become typed settings
    crosschecks = Crosschecks(MpmathSettings(**mpmath),
                              tuple(MontecarloSettings(**entry) for entry in montecarlo))
    settings = RuleSettings(frozenset(scope.definitions), crosschecks.mpmath.digits)
    context = Context(dict(scope.symbols), params, laws, assumptions, settings,
                      networks=dict(scope.mlps))
    return Theorem(t.name, t.statement, t.pos.line, claim, start, steps, context,
                   list(t.cites), crosschecks)


MATRIX_LAWS = ("GOE", "GUE", "Wigner", "Wishart")


def _slacks(assumptions: list[tuple[sympy.Expr, str, sympy.Expr]]) -> list[sympy.Expr]:
    """The assumptions as expressions they make >= 0 (a = b gives a - b and b - a)."""
    out = []
    for lhs, rel, rhs in assumptions:
        if rel in ("<=", "<", "="):
            out.append(rhs - lhs)
        if rel in (">=", ">", "="):
            out.append(lhs - rhs)
    return out


def _tensor_program_law(el: Elaborator, item: ast.LetLaw, declare: Callable,
                        laws: dict[sympy.Symbol, Any]) -> None:
    """``let A ~ Matrix(n[, v[, vT]])`` and ``let x ~ Vector(n[, v or [[cov]]])``."""
    call = item.law
    args = call.args
    if not args:
        raise ElaborationError(f"{call.func} takes the width n first", call.pos)
    n = el.expr(args[0])
    if call.func == "Matrix":
        if len(item.names) != 1 or len(args) > 3:
            raise ElaborationError("declare one matrix: let A ~ Matrix(n, variance, transpose "
                                   "variance)", call.pos)
        v = el.expr(args[1]) if len(args) > 1 else sympy.Integer(1)
        vt = el.expr(args[2]) if len(args) > 2 else v
        if v.is_nonnegative is not True or vt.is_nonnegative is not True:
            raise ElaborationError("Matrix: cannot show that the variances are >= 0", call.pos)
        name, pos = item.names[0]
        sym = declare(name, pos)
        el.scope.tp_matrices[name] = sym
        laws[sym] = laws_module.GaussianMatrix(n, v, vt)
        return
    d = len(item.names)
    if len(args) > 1 and isinstance(args[1], ast.ListExpr):
        rows = args[1].items
        if len(rows) != d or not all(isinstance(r, ast.ListExpr) and len(r.items) == d for r in rows):
            raise ElaborationError(f"{d} vectors need a {d}x{d} covariance", call.pos)
        cov = tuple(tuple(el.expr(x) for x in r.items) for r in rows)
    else:
        v = el.expr(args[1]) if len(args) > 1 else sympy.Integer(1)
        cov = tuple(tuple(v if i == j else sympy.Integer(0) for j in range(d)) for i in range(d))
    _require_covariance(el, "Vector", cov, call.pos, refuse_unproven=True)
    syms = tuple(declare(name, pos, real=True) for name, pos in item.names)
    law = laws_module.InitialVectors(n, syms, cov, tuple(sympy.Integer(0) for _ in syms))
    for sym in syms:
        laws[sym] = law


NETWORK_HEADS = ("nngp", "ntk", "nngp_limit", "ntk_limit", "output")


def _mlp_heads(t: ast.Theorem, name: str) -> list[ast.Call]:
    """Every nngp(name, ...), ntk(name, ...) and their _limit written in the theorem."""
    roots: list[ast.Node] = [d.body for d in t.lets if isinstance(d, ast.LetDef)]
    for a in t.assumptions:
        roots += [a.lhs, a.rhs]
    if t.claim is not None:
        roots += [t.claim.lhs, t.claim.rhs]
    if t.chain is not None:
        roots += [t.chain.start, *[link.expr for link in t.chain.links]]
    found, stack = [], roots
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call) and node.func in NETWORK_HEADS and node.args and \
                isinstance(node.args[0], ast.Name) and node.args[0].id == name:
            found.append(node)
        stack.extend(children(node))
    return found


def _mlp_law(el: Elaborator, item: ast.LetLaw, declare: Callable, laws: dict[sympy.Symbol, Any],
             t: ast.Theorem) -> None:
    """``let f ~ MLP(n, depth = L, phi = relu, sigma_w2 = 2, sigma_b2 = 0, parametrization =
    ntk)``: the tensor program of the network (:mod:`tpcheck.lang.mlp`), with one first-layer
    vector for every input that an nngp or ntk head of f uses anywhere in the theorem."""
    call = item.law
    if len(item.names) != 1:
        raise ElaborationError("declare one network: let f ~ MLP(n, depth = ..., phi = ...)", call.pos)
    name, pos = item.names[0]
    positional = [a for a in call.args if not isinstance(a, ast.Keyword)]
    named = {a.var: a for a in call.args if isinstance(a, ast.Keyword)}
    known = ("depth", "phi", "sigma_w2", "sigma_b2", "parametrization")
    for key, kw in named.items():
        if key not in known:
            raise ElaborationError(f"MLP: unknown argument '{key}' (known: {', '.join(known)})",
                                   kw.pos)
    if len(positional) != 1 or "depth" not in named or "phi" not in named:
        raise ElaborationError("write MLP(n, depth = L, phi = relu[, sigma_w2 = ..., sigma_b2 = "
                               "..., parametrization = ntk | standard])", call.pos)
    width = el.expr(positional[0])
    depth = _network_depth(el, named["depth"].value)
    phi_node = named["phi"].value
    if not isinstance(phi_node, ast.Name):
        raise ElaborationError("MLP: phi is the name of a function (relu, erf, tanh, identity, "
                               "or one defined with let)", phi_node.pos)
    phi = _activation(el, phi_node)
    variances = []
    for key, default in (("sigma_w2", 1), ("sigma_b2", 0)):
        v = el.expr(named[key].value) if key in named else sympy.Integer(default)
        if v.is_nonnegative is not True:
            raise ElaborationError(f"MLP: cannot show that {key} >= 0", call.pos)
        variances.append(v)
    par = "ntk"
    if "parametrization" in named:
        p = named["parametrization"].value
        if not isinstance(p, ast.Name) or p.id not in PARAMETRIZATIONS:
            raise ElaborationError(f"MLP: parametrization is one of {', '.join(PARAMETRIZATIONS)}",
                                   named["parametrization"].pos)
        par = p.id
    sym = declare(name, pos)
    spec = NetworkSpec(name, width, depth, phi, phi_node.id, variances[0], variances[1], par)
    for head in _mlp_heads(t, name):
        for arg in head.args[1:]:
            x = el.mlp_input(arg)
            if x not in spec.inputs:
                spec.inputs.append(x)
    if len({len(x) for x in spec.inputs}) > 1:
        raise ElaborationError(f"MLP: the inputs of {name} have different dimensions", call.pos)
    el.scope.mlps[name] = spec
    del el.scope.symbols[str(sym)]  # f names the network in nngp(f, ...) and ntk(f, ...) only
    if depth.is_Integer:
        for s, law in spec.build_program().items():
            laws[s] = law
            if isinstance(law, laws_module.GaussianMatrix):
                el.scope.tp_matrices[s.name] = s


def _network_depth(el: Elaborator, node: ast.Node) -> sympy.Expr:
    """An MLP's depth: an integer in 1..MAX_DEPTH, or an expression in the theorem's natural
    parameters that is at least 1 for all of them (``depth = L``, ``depth = L + 1``)."""
    depth = el.expr(node)
    if depth.is_Integer:
        if not 1 <= int(depth) <= MAX_MLP_DEPTH:
            raise ElaborationError(f"MLP: depth must be in 1..{MAX_MLP_DEPTH}", node.pos)
        return depth
    if depth.free_symbols and depth.is_integer and (depth - 1).is_nonnegative:
        return depth
    raise ElaborationError("MLP: the depth is a positive integer, or an expression in a natural "
                           "parameter that is at least 1 (for all L >= 1: depth = L)", node.pos)


def _activation(el: Elaborator, node: ast.Name) -> sympy.Lambda:
    """phi as a sympy Lambda of one variable (picklable, as the checked theorem travels between
    processes): a built-in of one argument, ``identity``, or a function defined with
    ``let rho(y) = ...``."""
    t = sympy.Symbol("phi.t", real=True)
    if node.id == "identity":
        return sympy.Lambda(t, t)
    d = el.scope.definitions.get(node.id)
    if d is not None:
        if len(d.names) != 1:
            raise ElaborationError(f"MLP: '{node.id}' must be a function of one argument", node.pos)
        formal = sympy.Symbol(f"{node.id}.{d.names[0]}")
        return sympy.Lambda(t, d.body.xreplace({formal: t}))
    if node.id in FUNCTIONS and FUNCTIONS[node.id][0] == 1:
        return sympy.Lambda(t, FUNCTIONS[node.id][1]([t], node.pos))
    raise ElaborationError(f"MLP: unknown activation '{node.id}' (a built-in function of one "
                           "argument, identity, or one defined with let)", node.pos)


def _matrix_law(el: Elaborator, item: ast.LetLaw) -> laws_module.MatrixEnsemble:
    call = item.law
    wishart = call.func == "Wishart"
    if len(call.args) != (2 if wishart else 1):
        raise ElaborationError(f"{call.func} takes {'the sizes p, N' if wishart else 'the size n'}",
                               call.pos)
    n = el.expr(call.args[0])
    columns = el.expr(call.args[1]) if wishart else None
    if not wishart and not (n.is_integer and n.is_positive):
        raise ElaborationError("the size of a random matrix must be a positive integer", call.pos)
    if wishart and not (n.is_positive and columns.is_integer and columns.is_positive):
        raise ElaborationError("Wishart(p, N) needs p > 0 and a positive integer N", call.pos)
    if wishart and not item.moments:
        gauss = [(j, sympy.Integer(0) if j % 2 else sympy.factorial2(j - 1)) for j in range(1, 13)]
        return laws_module.MatrixEnsemble("Wishart", n, tuple(gauss), None, columns)
    if call.func not in ("Wigner", "Wishart"):
        if item.moments:
            raise ElaborationError(f"{call.func} has Gaussian entries; no moments to declare",
                                   item.pos)
        return laws_module.MatrixEnsemble(call.func, n)
    moments: list[tuple[int, sympy.Expr, Position]] = []
    placeholder = None
    for lhs, rhs in item.moments:
        # the name inside E[.] stands for an entry: E[X^4] = m4 is the entries' fourth moment
        placeholder = _placeholder(lhs)
        power = _moment_power(lhs, placeholder) if placeholder else None
        if power is None:
            raise ElaborationError("an entry moment is written E[X^j] = value", lhs.pos)
        if any(p == power for p, _, _ in moments):
            raise ElaborationError(f"moment {power} of the entries is given twice", lhs.pos)
        if isinstance(rhs, ast.Name) and rhs.id not in el.scope.symbols and rhs.id not in CONSTANTS:
            el.scope.symbols[rhs.id] = sympy.Symbol(rhs.id, **_moment_domain(power))
        moments.append((power, el.expr(rhs), lhs.pos))
    declared = {p: v for p, v, _ in moments}
    if declared.get(1, 0) != 0 or declared.get(2, 1) != 1:
        raise ElaborationError(f"{call.func} entries have E[X] = 0 and E[X^2] = 1", item.pos)
    _require_moments(el, placeholder or "X", moments, item.pos,
                     implied={1: sympy.Integer(0), 2: sympy.Integer(1)})
    declared.setdefault(1, sympy.Integer(0))
    declared.setdefault(2, sympy.Integer(1))
    return laws_module.MatrixEnsemble(call.func, n, tuple(sorted(declared.items())), None, columns)


WITNESS_SETTINGS = {"mpmath": ("digits", "instances"), "montecarlo": ("samples", "seed")}


def _law(el: Elaborator, call: ast.Call) -> laws_module.Law:
    entry = laws_module.LAWS.get(call.func)
    if entry is None:
        raise ElaborationError(
            f"unknown law '{call.func}' (known: {', '.join(sorted(laws_module.LAWS))})", call.pos)
    cls, arity = entry
    if len(call.args) != arity:
        raise ElaborationError(f"{call.func} takes {arity} parameter(s)", call.pos)
    law = cls(*[el.expr(a) for a in call.args])
    _check_law(law, call)
    return law


def _check_law(law: laws_module.Law, call: ast.Call) -> None:
    """A declared law must be a law for every admissible value of its parameters."""
    def need(ok: bool | None, what: str) -> None:
        if ok is not True:
            raise ElaborationError(f"{call.func}: cannot show that {what} (declare the symbols' "
                                   "domains, e.g. 'let v : positive real')", call.pos)

    if isinstance(law, laws_module.Normal):
        need(law.variance.is_nonnegative, f"the variance {_t(law.variance)} is >= 0")
    elif isinstance(law, laws_module.TwoPoint):
        need(law.p.is_nonnegative and (1 - law.p).is_nonnegative, f"0 <= p = {_t(law.p)} <= 1")
    elif isinstance(law, laws_module.Uniform):
        need((law.b - law.a).is_positive, f"a = {_t(law.a)} < b = {_t(law.b)}")


def _gaussian_vector(el: Elaborator, call: ast.Call, names: list[sympy.Symbol]
                     ) -> laws_module.GaussianVector:
    """``Normal([m1, ..., md], [[c11, ...], ...])`` for d jointly Gaussian names."""
    d = len(names)
    if len(call.args) != 2 or not all(isinstance(a, ast.ListExpr) for a in call.args):
        raise ElaborationError("a Gaussian vector is Normal([means], [[covariance rows]])", call.pos)
    mean_node, cov_node = call.args
    if len(mean_node.items) != d or len(cov_node.items) != d:
        raise ElaborationError(f"{d} names need a mean of length {d} and a {d}x{d} covariance",
                               call.pos)
    mean = tuple(el.expr(m) for m in mean_node.items)
    rows = []
    for row in cov_node.items:
        if not isinstance(row, ast.ListExpr) or len(row.items) != d:
            raise ElaborationError(f"each covariance row needs {d} entries", row.pos)
        rows.append(tuple(el.expr(x) for x in row.items))
    for i in range(d):
        if rows[i][i].is_nonnegative is not True:
            raise ElaborationError(f"cannot show that the variance {_t(rows[i][i])} is >= 0",
                                   cov_node.pos)
    _require_covariance(el, "Normal", tuple(rows), cov_node.pos, refuse_unproven=False)
    return laws_module.GaussianVector(tuple(names), mean, tuple(rows))


def _render_matrix(rows: tuple[tuple[sympy.Expr, ...], ...]) -> str:
    return "[" + ", ".join("[" + ", ".join(_t(x) for x in row) + "]" for row in rows) + "]"


def _require_covariance(el: Elaborator, law: str, cov: tuple[tuple[sympy.Expr, ...], ...],
                        pos: Position, refuse_unproven: bool) -> None:
    """A covariance must be symmetric and positive semidefinite, or no Gaussian vector has it
    and the rules would prove anything (Vector(n, [[1, 2], [2, 1]]) gave avg(u v) -> 2).

    Symmetry is decided exactly at once. Positive semidefiniteness is decided after the
    assumptions are read: exactly over Q for numbers; for symbols by the principal minors,
    shown >= 0 from the declared domains and the assumptions. A covariance shown not PSD is
    refused; one not shown PSD is refused when ``refuse_unproven`` (Vector), and accepted
    otherwise (Normal, whose symbolic covariances are Isserlis' formulas' free parameters)."""
    d = len(cov)
    unreal = [x for row in cov for x in row if x.is_extended_real is not True]
    if unreal:
        raise ElaborationError(f"{law}: the covariance {_render_matrix(cov)} has an entry not "
                               f"shown to be real ({_t(unreal[0])}); declare its symbols real", pos)
    for i in range(d):
        for j in range(i):
            if sympy.expand(cov[i][j] - cov[j][i]) != 0:
                raise ElaborationError(f"{law}: the covariance {_render_matrix(cov)} is not "
                                       "symmetric", pos)

    def check(slacks: list[sympy.Expr]) -> None:
        if refuse_unproven and any(laws_module.provably_nonnegative(cov[i][i], slacks) is not True
                                   for i in range(d)):
            raise ElaborationError(f"{law}: cannot show that the variances are >= 0", pos)
        shown = laws_module.positive_semidefinite(cov, slacks)
        if shown is False:
            raise ElaborationError(f"{law}: the covariance {_render_matrix(cov)} is not positive "
                                   "semidefinite", pos)
        if shown is None and refuse_unproven:
            raise ElaborationError(
                f"{law}: cannot show that the covariance {_render_matrix(cov)} is positive "
                "semidefinite (declare the symbols' domains, or assume the missing principal "
                "minors, e.g. 'assume c^2 <= q1*q2')", pos)

    el.scope.obligations.append(check)


def _family(el: Elaborator, item: ast.LetFamily, declare: Callable) -> laws_module.IIDFamily:
    """An iid family; undeclared names on the right of its moment specs become real symbols."""
    lo, hi = el.expr(item.lo), el.expr(item.hi)
    if (hi - lo).is_negative:
        raise ElaborationError(f"the family {item.name}[{_t(lo)}..{_t(hi)}] is empty", item.pos)
    base = sympy.IndexedBase(declare(item.name, item.pos, real=True), real=True)
    law = _law(el, item.law) if item.law is not None else None
    moments: list[tuple[int, sympy.Expr, Position]] = []
    for lhs, rhs in item.moments:
        power = _moment_power(lhs, item.name)
        if power is None:
            raise ElaborationError(f"a moment is written E[{item.name}^j] = value", lhs.pos)
        if any(p == power for p, _, _ in moments):
            raise ElaborationError(f"moment {power} of '{item.name}' is given twice", lhs.pos)
        if isinstance(rhs, ast.Name) and rhs.id not in el.scope.symbols and rhs.id not in CONSTANTS:
            value: sympy.Expr = declare(rhs.id, rhs.pos, **_moment_domain(power))
        else:
            value = el.expr(rhs)
        if value.free_symbols & {base.label}:
            raise ElaborationError("a moment must not depend on the family", rhs.pos)
        moments.append((power, value, lhs.pos))
    _require_moments(el, item.name, moments, item.pos, law)
    return laws_module.IIDFamily(base, lo, hi, tuple(sorted((p, v) for p, v, _ in moments)), law)


def _moment_domain(power: int) -> dict[str, bool]:
    """A name introduced for E[X^j] is real, and >= 0 for an even j (an even power is >= 0)."""
    return {"real": True, "nonnegative": True} if power % 2 == 0 else {"real": True}


def _require_moments(el: Elaborator, name: str,
                     moments: list[tuple[int, sympy.Expr, Position]], pos: Position,
                     law: laws_module.Law | None = None,
                     implied: dict[int, sympy.Expr] | None = None) -> None:
    """Declared moments E[X^j] = m_j must be the moments of some law, or the rules would prove
    anything from them (E[X^2] = -1 gave P[|X| >= 1] <= -1).

    E[X^0] is 1; a declared law's own moments may not be contradicted; the moment matrices
    (E[X^(i+j)]) must be positive semidefinite (:func:`tpcheck.engines.laws.moment_contradiction`,
    which also covers E[X^2] >= E[X]^2 and negative even moments given as numbers); and, once
    the assumptions are read, every even moment must be shown >= 0 from the symbols' domains
    and the assumptions (``implied``: moments fixed by the law's definition, like a Wigner
    entry's E[X] = 0, E[X^2] = 1).
    """
    for power, value, at in moments:
        if power % 2 == 0 and laws_module.provably_nonnegative(value) is False:
            raise ElaborationError(f"{name}: the moment E[{name}^{power}] = {_t(value)} is negative",
                                   at)
        if power == 0 and value != 1:
            raise ElaborationError(f"{name}: E[{name}^0] is 1, not {_t(value)}", at)
        if law is not None:
            own = law.moment(power)
            if own is not None and sympy.cancel(value - own).is_zero is False:
                raise ElaborationError(f"{name}: E[{name}^{power}] = {_t(value)} contradicts the law "
                                       f"{law.describe()}, whose moment is {_t(own)}", at)
    known = {**(implied or {}), **{p: v for p, v, _ in moments}}
    reason = laws_module.moment_contradiction(known)
    if reason is not None:
        raise ElaborationError(f"{name}: the declared moments are impossible: {reason}", pos)

    def check(slacks: list[sympy.Expr]) -> None:
        for power, value, at in moments:
            if power % 2:
                continue
            sign = laws_module.provably_nonnegative(value, slacks)
            if sign is False:
                raise ElaborationError(f"{name}: the moment E[{name}^{power}] = {_t(value)} is "
                                       "negative", at)
            if sign is None:
                raise ElaborationError(
                    f"{name}: cannot show that the moment E[{name}^{power}] = {_t(value)} is >= 0 "
                    "(declare its symbols' domains, e.g. 'let s : nonnegative real', or assume "
                    "it)", at)

    el.scope.obligations.append(check)


def _placeholder(node: ast.Node) -> str | None:
    if isinstance(node, ast.Expect):
        arg = node.arg.left if isinstance(node.arg, ast.BinOp) else node.arg
        if isinstance(arg, ast.Name):
            return arg.id
    return None


def _moment_power(node: ast.Node, name: str) -> int | None:
    if not isinstance(node, ast.Expect):
        return None
    arg = node.arg
    if isinstance(arg, ast.Name) and arg.id == name:
        return 1
    if (isinstance(arg, ast.BinOp) and arg.op == "^" and isinstance(arg.left, ast.Name)
            and arg.left.id == name and isinstance(arg.right, ast.Num) and arg.right.text.isdigit()):
        if len(arg.right.text) > len(str(MAX_EXPONENT)) or int(arg.right.text) > MAX_EXPONENT:
            raise ElaborationError(f"a moment's order is at most the exponent limit "
                                   f"{MAX_EXPONENT}", arg.right.pos)
        return int(arg.right.text)
    return None


def _goal(el: Elaborator, lhs: ast.Node, rel: str, rhs: ast.Node, var: str | None,
          pos: Position, tolerance: ast.Node | None = None) -> Goal:
    left = _side(el, lhs, rel == "~>")
    right = _limit_law(el, rhs) if rel == "~>" else el.expr(rhs)
    return _goal_from(el, left, rel, right, var, pos, _tolerance(el, tolerance))


def _side(el: Elaborator, node: ast.Node, vector: bool) -> sympy.Expr:
    """A side of a relation: an expression, or, in a claim of convergence in distribution
    (``vector``), a list of them: a random vector."""
    if vector and isinstance(node, ast.ListExpr):
        if not node.items:
            raise ElaborationError("an empty list is not a random vector", node.pos)
        return sympy.Tuple(*[el.expr(i) for i in node.items])
    return el.expr(node)


def _limit_law(el: Elaborator, node: ast.Node) -> sympy.Expr:
    """The right side of ``~>``: ``Normal(m, v)`` or ``Normal([m1, ...], [[c11, ...], ...])``, a
    Gaussian law whose covariance must be positive semidefinite."""
    if not isinstance(node, ast.Call) or node.func != "Normal" or len(node.args) != 2:
        raise ElaborationError("'~>' (converges in distribution) takes a law on its right: "
                               "Normal(m, v) or Normal([m1, ...], [[c11, ...], ...])", node.pos)
    mean_node, cov_node = node.args
    if isinstance(mean_node, ast.ListExpr):
        mean = tuple(el.expr(m) for m in mean_node.items)
        if not isinstance(cov_node, ast.ListExpr) or len(cov_node.items) != len(mean) or not all(
                isinstance(r, ast.ListExpr) and len(r.items) == len(mean) for r in cov_node.items):
            raise ElaborationError(f"Normal: {len(mean)} means need a {len(mean)}x{len(mean)} "
                                   "covariance", node.pos)
        cov = tuple(tuple(el.expr(c) for c in r.items) for r in cov_node.items)
    else:
        mean, cov = (el.expr(mean_node),), ((el.expr(cov_node),),)
    # the hypotheses are checked by now: check this covariance at once, with their slacks
    before = len(el.scope.obligations)
    _require_covariance(el, "Normal", cov, node.pos, refuse_unproven=False)
    for check in el.scope.obligations[before:]:
        check(el.slacks)
    del el.scope.obligations[before:]
    return LimitLaw(sympy.Symbol("Normal"), sympy.Tuple(*mean),
                    sympy.Tuple(*[sympy.Tuple(*r) for r in cov]))


def _tolerance(el: Elaborator, node: ast.Node | None) -> sympy.Rational | None:
    """The ``within`` tolerance: a positive rational number (so tolerances add exactly)."""
    if node is None:
        return None
    tol = el.expr(node)
    if not (tol.is_Rational and tol > 0):
        raise ElaborationError(f"a tolerance must be a positive rational number, not {_t(tol)}",
                               node.pos)
    return tol


def _goal_from(el: Elaborator, lhs: sympy.Expr, rel: str, rhs: sympy.Expr, var: str | None,
               pos: Position, tolerance: sympy.Rational | None = None) -> Goal:
    limit_var = None
    if var is not None:
        limit_var = el.scope.symbols.get(var)
        if limit_var is None:
            raise ElaborationError(f"limit variable '{var}' is not declared", pos)
    return Goal(lhs, rel, rhs, limit_var, tolerance)


def _rule_arg(el: Elaborator, node: ast.Node) -> Any:
    """A rule argument: a declared symbol or expression, a bare word, a range binding, or a
    named option ``name = value`` (the tuple ("option", name, value); rules that take options
    refuse names they do not know)."""
    if isinstance(node, ast.Keyword):
        return ("option", node.var, el.expr(node.value))
    if isinstance(node, ast.Binding):
        sym = el.scope.symbols.get(node.var)
        if sym is None:
            raise ElaborationError(f"'{node.var}' is not a declared symbol", node.pos)
        lo = _integer_literal(el, node.lo, "a range bound")
        hi = _integer_literal(el, node.hi, "a range bound")
        if abs(lo) > MAX_PARAM_BOUND or abs(hi) > MAX_PARAM_BOUND:
            raise ElaborationError(f"range bounds exceed {MAX_PARAM_BOUND:.0e}", node.pos)
        return ("range", sym, lo, hi)
    if isinstance(node, ast.Name) and node.id not in el.scope.symbols:
        return node.id
    return el.expr(node)
