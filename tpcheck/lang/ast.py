"""Syntax tree of the proof language, with source positions on every node.

The tree is what the author wrote; the elaborator turns it into mathematics and the LaTeX
printer prints from it, so what a reader sees is what was checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tpcheck.errors import Position

# ---- expressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    pos: Position


@dataclass(frozen=True)
class Num(Node):
    text: str


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class BinOp(Node):
    op: str  # "+", "-", "*", "/", "^", or "implicit" (juxtaposition "2k")
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Postfix(Node):
    op: str  # "!" or "!!"
    operand: Node


@dataclass(frozen=True)
class Abs(Node):
    operand: Node


@dataclass(frozen=True)
class Expect(Node):
    """``E[arg]``."""

    arg: Node


@dataclass(frozen=True)
class Var(Node):
    """``Var[arg]``."""

    arg: Node


@dataclass(frozen=True)
class Prob(Node):
    """``P[lhs REL rhs]``: the probability of an event."""

    lhs: Node
    rel: str
    rhs: Node


@dataclass(frozen=True)
class Index(Node):
    """``X[i]`` or ``X[i, j]``."""

    name: str
    indices: tuple[Node, ...]


@dataclass(frozen=True)
class ListExpr(Node):
    """``[a, b, c]``."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Binding(Node):
    """``i = a..b`` (or ``i in a..b``) inside a call: a bound variable running over a range."""

    var: str
    lo: Node
    hi: Node


@dataclass(frozen=True)
class Keyword(Node):
    """``name = value`` inside a call: a named argument (``MLP(n, depth = 3, ...)``)."""

    var: str
    value: Node


@dataclass(frozen=True)
class Member(Node):
    """``x in collection`` inside a call."""

    var: str
    collection: Node


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


# ---- theorem structure -------------------------------------------------------------------

RELATIONS = ("=", "<=", "<", ">=", ">", "->", "~=", "~>")  # "~>": converges in distribution to


@dataclass(frozen=True)
class Param:
    """``for all k >= 0`` (universal, ``hi`` is None) or ``for k in 0..12`` (ranged)."""

    pos: Position
    var: str
    lo: Node
    hi: Node | None


@dataclass(frozen=True)
class LetDomain:
    """``let n, m : positive integer``."""

    pos: Position
    names: tuple[tuple[str, Position], ...]
    domain: str


@dataclass(frozen=True)
class LetLaw:
    """``let Z ~ Normal(0, s^2)``: random objects with a law (``with`` moments for a Wigner
    matrix's entries)."""

    pos: Position
    names: tuple[tuple[str, Position], ...]
    law: Call
    moments: tuple[tuple[Node, Node], ...] = ()


@dataclass(frozen=True)
class LetFamily:
    """``let X[1..n] iid ~ Law(...)`` or ``let X[1..n] iid with E[X] = 0, E[X^2] = 1, ...``."""

    pos: Position
    name: str
    lo: Node
    hi: Node
    law: Call | None
    moments: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True)
class LetDef:
    """``let S = expr`` or ``let rho(x) = expr``: an abbreviation, expanded when checking."""

    pos: Position
    name: str
    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True)
class Assume:
    pos: Position
    lhs: Node
    rel: str
    rhs: Node


@dataclass(frozen=True)
class Relation:
    """``lhs REL rhs`` with, for a limit arrow, ``as var -> oo``."""

    pos: Position
    lhs: Node
    rel: str
    rhs: Node
    limit_var: str | None = None
    tolerance: Node | None = None  # ``~= rhs within TOL``, ``-> rhs within TOL as n -> oo``


@dataclass(frozen=True)
class RuleCall:
    pos: Position
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Link:
    """One step of a chain: ``REL expr [as n -> oo] by rule(args)``."""

    pos: Position
    rel: str
    expr: Node
    limit_var: str | None
    rule: RuleCall
    tolerance: Node | None = None


@dataclass(frozen=True)
class Chain:
    pos: Position
    start: Node
    links: tuple[Link, ...]


@dataclass(frozen=True)
class Crosscheck:
    """``crosscheck mpmath digits 50 instances 4 for k in 0..30`` or
    ``crosscheck montecarlo samples 10000 seed 3 law X ~ Rademacher() at n = 5``."""

    pos: Position
    kind: str
    settings: tuple[tuple[str, Node], ...]
    param: Param | None
    laws: tuple[tuple[str, Call], ...] = ()
    fixed: tuple[tuple[str, Node], ...] = ()


@dataclass
class Theorem:
    pos: Position
    name: str
    statement: str
    cites: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    lets: list[LetDomain | LetLaw | LetFamily | LetDef] = field(default_factory=list)
    assumptions: list[Assume] = field(default_factory=list)
    claim: Relation | None = None
    chain: Chain | None = None
    crosschecks: list[Crosscheck] = field(default_factory=list)


@dataclass
class ProofFile:
    theorems: list[Theorem]
