"""Recursive-descent parser of the proof language (grammar in ``docs/language.md``).

Expressions use a precedence climber: ``+ -`` < ``* /`` < unary ``-`` < juxtaposition of a
number and what follows it (``2k``, ``2(k+1)``) < ``^`` (right associative) < postfix ``!`` and
``!!``.

The parser is the first line of the size model (the elaborator has the rest): every limit below
is refused with an error that names it, before any mathematics is built, so that no input can
exhaust the Python stack or make reading a file slow.
"""

from __future__ import annotations

from tpcheck.errors import ParseError, Position
from tpcheck.lang import ast
from tpcheck.lang.lexer import Token, tokenize

#: Nesting depth of an expression: brackets, calls, exponents, unary minus and postfix
#: factorials each open a level; a chain ``a + b - c`` or ``a * b / c`` is one level (every
#: tree walker folds it in a loop). The parser uses at most 9 Python frames a level and the
#: elaborator and printers fewer, so 64 levels stay far inside Python's recursion limit of 1000
#: wherever the checker is called from; the proof library nests 12 deep at most.
MAX_DEPTH = 64
#: Nodes of one expression's syntax tree (a sum of 10^4 terms has 2 * 10^4 - 1): bounds the
#: time to elaborate and print one expression to well under a second; the library's largest
#: has under a hundred.
MAX_EXPRESSION_SIZE = 50_000
#: Steps of one derivation: each is judged in a child process of its own (tens of ms before
#: any mathematics), so 5000 steps ran for minutes; the library's longest chain has 3 steps.
MAX_STEPS = 200
#: Theorems in one file: each is elaborated and checked on its own; the library's fullest file
#: has 15.
MAX_THEOREMS = 500

_ADDITIVE = ("+", "-")
_MULTIPLICATIVE = ("*", "/")

DOMAIN_WORDS = {
    ("integer",): "integer",
    ("natural",): "natural",
    ("nonnegative", "integer"): "natural",
    ("positive", "integer"): "positive integer",
    ("real",): "real",
    ("positive", "real"): "positive real",
    ("nonnegative", "real"): "nonnegative real",
    ("complex",): "complex",
}

RELATION_SYMBOLS = frozenset(ast.RELATIONS)


#: How tightly each operator binds when printed (larger binds tighter): the one table of the
#: text printer (:mod:`tpcheck.lang.printer`) and the LaTeX printer
#: (:mod:`tpcheck.latex.expressions`), which bracket a sub-expression that binds less tightly
#: than its place needs. It follows the parser's order, except that the printers bracket a
#: product under a minus sign, -(2k), which the parser would read the same without brackets;
#: ``postfix`` (``!``, ``!!``) binds tighter than any operator.
PRECEDENCE = {"+": 10, "-": 10, "*": 20, "/": 20, "implicit": 25, "neg": 26, "^": 30, "postfix": 40}


def parse(text: str) -> ast.ProofFile:
    """Parse a whole proof file."""
    return _Parser(tokenize(text)).proof_file()


def parse_expression(text: str) -> ast.Node:
    """Parse a single expression (used by the Python API and tests)."""
    p = _Parser(tokenize(text))
    node = p.expr()
    p.expect_kind("eof", "end of expression")
    return node


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.toks = tokens
        self.i = 0
        self.depth = 0

    # ---- token helpers ----
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def at_sym(self, text: str) -> bool:
        return self.at("sym", text)

    def at_kw(self, text: str) -> bool:
        return self.at("kw", text)

    def error(self, message: str, tok: Token | None = None) -> ParseError:
        t = tok or self.tok
        found = "end of file" if t.kind == "eof" else repr(t.text)
        hint = ""
        prev = self.toks[self.i - 1] if self.i > 0 else None
        if (prev is not None and t is self.tok and t.kind in ("ident", "num")
                and (prev.kind in ("ident", "num") or prev.text in (")", "]", "!", "!!"))):
            hint = "; a product needs '*' (only a number may touch what it multiplies: 3s, 2(k+1))"
        return ParseError(f"{message} (found {found}){hint}", t.pos)

    def expect_sym(self, text: str) -> Token:
        if not self.at_sym(text):
            raise self.error(f"expected '{text}'")
        return self.advance()

    def expect_kw(self, text: str) -> Token:
        if not self.at_kw(text):
            raise self.error(f"expected '{text}'")
        return self.advance()

    def expect_kind(self, kind: str, what: str) -> Token:
        if not self.at(kind):
            raise self.error(f"expected {what}")
        return self.advance()

    def ident(self, what: str = "a name") -> Token:
        return self.expect_kind("ident", what)

    # ---- file structure ----
    def proof_file(self) -> ast.ProofFile:
        theorems = []
        while not self.at("eof"):
            if not self.at_kw("theorem"):
                raise self.error("expected 'theorem'")
            if len(theorems) == MAX_THEOREMS:
                raise ParseError(f"a file holds at most {MAX_THEOREMS} theorems (the theorem "
                                 "limit); split it into several files", self.tok.pos)
            theorems.append(self.theorem())
        return ast.ProofFile(theorems)

    def theorem(self) -> ast.Theorem:
        start = self.expect_kw("theorem")
        name = self.ident("the theorem's name").text
        statement = ""
        if self.at("str"):
            statement = self.advance().text
        thm = ast.Theorem(pos=start.pos, name=name, statement=statement)
        while not self.at_kw("proof"):
            self.header_item(thm)
        self.expect_kw("proof")
        thm.chain = self.chain()
        self.expect_kw("qed")
        while self.at_kw("crosscheck"):
            thm.crosschecks.append(self.crosscheck())
        if thm.claim is None:
            raise ParseError(f"theorem '{name}' has no claim", start.pos)
        return thm

    def header_item(self, thm: ast.Theorem) -> None:
        t = self.tok
        if self.at_kw("let"):
            thm.lets.extend(self.let())
        elif self.at_kw("for"):
            thm.params.append(self.param())
        elif self.at("ident") and self.peek().kind == "kw" and self.peek().text == "in":
            thm.params.append(self.range_param(t.pos))
        elif self.at_kw("assume"):
            self.advance()
            lhs = self.expr()
            rel = self.relation_symbol(allow_limit=False)
            thm.assumptions.append(ast.Assume(t.pos, lhs, rel, self.expr()))
        elif self.at_kw("cite"):
            self.advance()
            thm.cites.append(self.ident("a reference key").text)
            while self.at_sym(","):
                self.advance()
                thm.cites.append(self.ident("a reference key").text)
        elif self.at_kw("claim"):
            if thm.claim is not None:
                raise self.error("a theorem has one claim")
            self.advance()
            thm.claim = self.relation(t.pos)
        elif self.at_kw("crosscheck"):
            thm.crosschecks.append(self.crosscheck())
        elif self.at("str"):
            raise self.error("the statement goes right after the theorem's name")
        else:
            raise self.error(
                "expected 'let', 'for', 'assume', 'cite', 'claim', 'crosscheck' or 'proof'"
            )

    def param(self) -> ast.Param:
        start = self.expect_kw("for")
        if self.at_kw("all"):
            self.advance()
            var = self.ident("a parameter name").text
            self.expect_sym(">=")
            return ast.Param(start.pos, var, self.expr(), None)
        return self.range_param(start.pos)

    def range_param(self, pos: Position) -> ast.Param:
        var = self.ident("a parameter name").text
        self.expect_kw("in")
        lo = self.expr()
        self.expect_sym("..")
        return ast.Param(pos, var, lo, self.expr())

    def let(self) -> list[ast.LetDomain | ast.LetLaw | ast.LetFamily | ast.LetDef]:
        start = self.expect_kw("let")
        first = self.ident("a name to declare")
        if self.at_sym("["):
            return [self.family(start.pos, first.text)]
        if self.at_sym("(") or (self.at_sym("=")):
            params: list[str] = []
            if self.at_sym("("):
                self.advance()
                params.append(self.ident("a parameter").text)
                while self.at_sym(","):
                    self.advance()
                    params.append(self.ident("a parameter").text)
                self.expect_sym(")")
            self.expect_sym("=")
            return [ast.LetDef(start.pos, first.text, tuple(params), self.expr())]
        names = [(first.text, first.pos)]
        while self.at_sym(","):
            self.advance()
            t = self.ident("a name to declare")
            names.append((t.text, t.pos))
        if self.at_sym(":"):
            self.advance()
            words = []
            wpos = self.tok
            while self.at("ident") and self.tok.text in {
                "integer", "natural", "nonnegative", "positive", "real", "complex"
            }:
                words.append(self.advance().text)
            domain = DOMAIN_WORDS.get(tuple(words))
            if domain is None:
                raise ParseError(
                    "unknown domain '" + " ".join(words) + "'; use one of: "
                    + ", ".join(sorted(set(DOMAIN_WORDS.values()))),
                    wpos.pos,
                )
            return [ast.LetDomain(start.pos, tuple(names), domain)]
        if self.at_sym("~"):
            self.advance()
            t = self.ident("a law, e.g. Normal(0, 1)")
            if not self.at_sym("("):
                raise self.error("expected '(' after the law's name")
            law = self.call(t)
            return [ast.LetLaw(start.pos, tuple(names), law, tuple(self.moment_specs()))]
        raise self.error("expected ':' (a domain), '~' (a law) or '=' (a definition)")

    def family(self, pos: Position, name: str) -> ast.LetFamily:
        self.expect_sym("[")
        lo = self.expr()
        self.expect_sym("..")
        hi = self.expr()
        self.expect_sym("]")
        self.expect_kw("iid")
        law = None
        moments: list[tuple[ast.Node, ast.Node]] = []
        if self.at_sym("~"):
            self.advance()
            t = self.ident("a law, e.g. Rademacher()")
            if not self.at_sym("("):
                raise self.error("expected '(' after the law's name")
            law = self.call(t)
        moments = self.moment_specs()
        if law is None and not moments:
            raise self.error("an iid family needs a law ('~ Law(...)') or moments ('with E[X^2] = 1')")
        return ast.LetFamily(pos, name, lo, hi, law, tuple(moments))

    def moment_specs(self) -> list[tuple[ast.Node, ast.Node]]:
        """``with E[X^j] = value, ...`` (or nothing)."""
        specs: list[tuple[ast.Node, ast.Node]] = []
        if not self.at_kw("with"):
            return specs
        self.advance()
        while True:
            lhs = self.expr()
            self.expect_sym("=")
            specs.append((lhs, self.expr()))
            if not self.at_sym(","):
                return specs
            self.advance()

    def crosscheck(self) -> ast.Crosscheck:
        start = self.expect_kw("crosscheck")
        kind = self.ident("a witness kind (mpmath or montecarlo)").text
        settings = []
        laws = []
        fixed = []
        param = None
        while self.at("ident") or self.at_kw("for"):
            if self.at_kw("for"):
                param = self.range_param(self.advance().pos)
                continue
            key = self.advance()
            if key.text == "law":
                name = self.ident("a random object's name").text
                self.expect_sym("~")
                t = self.ident("a law")
                if not self.at_sym("("):
                    raise self.error("expected '(' after the law's name")
                laws.append((name, self.call(t)))
            elif key.text == "at":
                name = self.ident("a parameter's name").text
                self.expect_sym("=")
                fixed.append((name, self.expr()))
            else:
                settings.append((key.text, self.expr()))
        return ast.Crosscheck(start.pos, kind, tuple(settings), param, tuple(laws), tuple(fixed))

    def relation_symbol(self, allow_limit: bool = True) -> str:
        if self.at("sym") and self.tok.text in RELATION_SYMBOLS:
            if self.tok.text in ("->", "~=", "~>") and not allow_limit:
                raise self.error(f"'{self.tok.text}' is not allowed here")
            return self.advance().text
        raise self.error("expected a relation (=, <=, <, >=, >, ->, ~=, ~>)")

    def tolerance(self, rel: str) -> ast.Node | None:
        """``within TOL`` after ``~= rhs`` (required) or ``-> rhs`` (optional)."""
        if self.at_kw("within"):
            if rel not in ("~=", "->"):
                raise self.error("'within' qualifies only '~=' and '->'")
            self.advance()
            return self.expr()
        if rel == "~=":
            raise self.error("'~=' needs its tolerance: '~= VALUE within TOL'")
        return None

    def limit_tail(self) -> str:
        self.expect_kw("as")
        var = self.ident("the limit variable").text
        self.expect_sym("->")
        t = self.tok
        if not (self.at("ident") and t.text == "oo"):
            raise self.error("only limits 'as n -> oo' are supported")
        self.advance()
        return var

    def relation(self, pos: Position) -> ast.Relation:
        lhs = self.expr()
        rel = self.relation_symbol()
        rhs = self.expr()
        tol = self.tolerance(rel)
        var = self.limit_tail() if rel in ("->", "~>") else None
        return ast.Relation(pos, lhs, rel, rhs, var, tol)

    def chain(self) -> ast.Chain:
        start_tok = self.tok
        start = self.expr()
        links = []
        while self.at("sym") and self.tok.text in RELATION_SYMBOLS:
            rel_tok = self.tok
            if len(links) == MAX_STEPS:
                raise ParseError(f"a derivation has at most {MAX_STEPS} steps (the step limit); "
                                 "split it into lemmas", rel_tok.pos)
            rel = self.relation_symbol()
            expr = self.expr()
            tol = self.tolerance(rel)
            var = self.limit_tail() if rel in ("->", "~>") else None
            if not self.at_kw("by"):
                raise self.error("every step needs a justification 'by RULE'")
            self.advance()
            rt = self.ident("a rule name")
            args: tuple[ast.Node, ...] = ()
            if self.at_sym("(") and not self.tok.space_before:
                args = self.call(rt).args
            links.append(ast.Link(rel_tok.pos, rel, expr, var, ast.RuleCall(rt.pos, rt.text, args),
                                  tol))
        if not links:
            raise self.error("a derivation needs at least one step 'REL expr by RULE'")
        return ast.Chain(start_tok.pos, start, tuple(links))

    # ---- expressions ----
    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested too deeply (nesting limit {MAX_DEPTH})")

    def expr(self) -> ast.Node:
        """An expression; every nested one (in brackets, calls, E[...]) opens a level."""
        start = self.tok
        self.enter()
        try:
            node = self.additive()
        finally:
            self.depth -= 1
        if self.depth == 0:
            _check_size(node, start.pos)
        return node

    def additive(self) -> ast.Node:
        left = self.term()
        while self.at("sym") and self.tok.text in _ADDITIVE:
            op = self.advance()
            left = ast.BinOp(op.pos, op.text, left, self.term())
        return left

    def term(self) -> ast.Node:
        left = self.unary()
        while self.at("sym") and self.tok.text in _MULTIPLICATIVE:
            op = self.advance()
            left = ast.BinOp(op.pos, op.text, left, self.unary())
        return left

    def unary(self) -> ast.Node:
        """Signs in a loop (a '+' sign is dropped, each '-' is a level of nesting)."""
        minus: list[Token] = []
        while self.at("sym") and self.tok.text in ("+", "-"):
            t = self.advance()
            if t.text == "-":
                minus.append(t)
                self.enter()
        try:
            node = self.juxtaposed()
        finally:
            self.depth -= len(minus)
        for t in reversed(minus):
            node = ast.Neg(t.pos, node)
        return node

    def juxtaposed(self) -> ast.Node:
        """``2k``, ``3n^2``, ``2(k+1)``: a number written against what follows multiplies it."""
        left = self.power()
        if isinstance(left, ast.Num):
            t = self.tok
            if not t.space_before and (t.kind == "ident" or (t.kind == "sym" and t.text == "(")):
                return ast.BinOp(t.pos, "implicit", left, self.power())
        return left

    def power(self) -> ast.Node:
        base = self.postfix()
        if self.at_sym("^"):
            op = self.advance()
            self.enter()
            try:
                exponent = self.unary()
            finally:
                self.depth -= 1
            return ast.BinOp(op.pos, "^", base, exponent)
        return base

    def postfix(self) -> ast.Node:
        node = self.primary()
        while self.at("sym") and self.tok.text in ("!", "!!"):
            op = self.advance()
            node = ast.Postfix(op.pos, op.text, node)
        return node  # a tower of factorials is refused by the size check (_check_size)

    def primary(self) -> ast.Node:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return ast.Num(t.pos, t.text)
        if t.kind == "ident":
            self.advance()
            if t.text in ("E", "Var") and self.at_sym("["):
                self.advance()
                arg = self.expr()
                self.expect_sym("]")
                return ast.Expect(t.pos, arg) if t.text == "E" else ast.Var(t.pos, arg)
            if t.text == "P" and self.at_sym("["):
                self.advance()
                lhs = self.expr()
                rel = self.relation_symbol(allow_limit=False)
                rhs = self.expr()
                self.expect_sym("]")
                return ast.Prob(t.pos, lhs, rel, rhs)
            if self.at_sym("(") and not self.tok.space_before:
                return self.call(t)
            if self.at_sym("[") and not self.tok.space_before:
                self.advance()
                indices = [self.expr()]
                while self.at_sym(","):
                    self.advance()
                    indices.append(self.expr())
                self.expect_sym("]")
                return ast.Index(t.pos, t.text, tuple(indices))
            return ast.Name(t.pos, t.text)
        if t.kind == "sym" and t.text == "(":
            self.advance()
            inner = self.expr()
            self.expect_sym(")")
            return inner
        if t.kind == "sym" and t.text == "|":
            self.advance()
            inner = self.expr()
            self.expect_sym("|")
            return ast.Abs(t.pos, inner)
        if t.kind == "sym" and t.text == "[":
            self.advance()
            items = [self.expr()]
            while self.at_sym(","):
                self.advance()
                items.append(self.expr())
            self.expect_sym("]")
            return ast.ListExpr(t.pos, tuple(items))
        if t.kind == "kw":
            raise self.error(f"'{t.text}' is a keyword and cannot stand in an expression")
        raise self.error("expected an expression")

    def call(self, name_tok: Token) -> ast.Call:
        self.expect_sym("(")
        args: list[ast.Node] = []
        if not self.at_sym(")"):
            args.append(self.call_arg())
            while self.at_sym(","):
                self.advance()
                args.append(self.call_arg())
        self.expect_sym(")")
        return ast.Call(name_tok.pos, name_tok.text, tuple(args))

    def call_arg(self) -> ast.Node:
        t = self.tok
        nxt = self.peek()
        if t.kind == "ident" and nxt.kind == "kw" and nxt.text == "in":
            self.advance()
            self.advance()
            coll = self.expr()
            if self.at_sym(".."):
                self.advance()
                return ast.Binding(t.pos, t.text, coll, self.expr())
            return ast.Member(t.pos, t.text, coll)
        if t.kind == "ident" and nxt.kind == "sym" and nxt.text == "=":
            # "i = a..b" binds i; "name = value" is a named argument (never an equation).
            self.advance()
            self.advance()
            lo = self.expr()
            if not self.at_sym(".."):
                return ast.Keyword(t.pos, t.text, lo)
            self.advance()
            return ast.Binding(t.pos, t.text, lo, self.expr())
        return self.expr()


def children(node: ast.Node) -> tuple[ast.Node, ...]:
    """The sub-expressions of an expression node."""
    if isinstance(node, ast.BinOp):
        return (node.left, node.right)
    if isinstance(node, ast.Neg | ast.Postfix | ast.Abs):
        return (node.operand,)
    if isinstance(node, ast.Expect | ast.Var):
        return (node.arg,)
    if isinstance(node, ast.Prob):
        return (node.lhs, node.rhs)
    if isinstance(node, ast.Index):
        return node.indices
    if isinstance(node, ast.ListExpr):
        return node.items
    if isinstance(node, ast.Binding):
        return (node.lo, node.hi)
    if isinstance(node, ast.Member):
        return (node.collection,)
    if isinstance(node, ast.Keyword):
        return (node.value,)
    if isinstance(node, ast.Call):
        return node.args
    return ()


def chain_group(node: ast.Node) -> tuple[str, ...] | None:
    """The operators of the left-nested chain ``node`` heads (``a + b - c``, ``a * b / c``),
    which every tree walker folds in a loop, or None."""
    if isinstance(node, ast.BinOp):
        if node.op in _ADDITIVE:
            return _ADDITIVE
        if node.op in _MULTIPLICATIVE:
            return _MULTIPLICATIVE
    return None


def fold_chain(node: ast.BinOp) -> tuple[ast.Node, list[ast.BinOp]]:
    """The first operand of the chain ``node`` heads and its links (BinOps, first one first):
    ``a + b - c`` gives ``a`` and the nodes of ``+ b`` and ``- c``."""
    group = chain_group(node)
    links: list[ast.BinOp] = []
    while isinstance(node, ast.BinOp) and node.op in (group or ()):
        links.append(node)
        node = node.left
    links.reverse()
    return node, links


def _check_size(node: ast.Node, pos: Position) -> None:
    """Refuse an expression whose tree, with chains folded, is deeper than MAX_DEPTH or has more
    than MAX_EXPRESSION_SIZE nodes (walked with an explicit stack: no recursion)."""
    size = 0
    stack = [(node, 1)]
    while stack:
        n, level = stack.pop()
        size += 1
        if level > MAX_DEPTH:
            raise ParseError(f"expression nested too deeply (nesting limit {MAX_DEPTH})", pos)
        group = chain_group(n)
        if group is not None:
            assert isinstance(n, ast.BinOp)
            left_level = level if chain_group(n.left) == group else level + 1
            stack.append((n.left, left_level))
            stack.append((n.right, level + 1))
            continue
        stack.extend((c, level + 1) for c in children(n))
    if size > MAX_EXPRESSION_SIZE:
        raise ParseError(f"expression too large ({size} nodes; size limit {MAX_EXPRESSION_SIZE})",
                         pos)
