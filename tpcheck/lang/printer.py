"""Print syntax trees back to proof-language text (fully parenthesised where needed). Text of
mathematics that is safe to show (long integers abbreviated) is :mod:`tpcheck.text`."""

from __future__ import annotations

from typing import Any

from tpcheck.lang import ast
from tpcheck.lang.parser import PRECEDENCE, chain_group, fold_chain


def to_source(node: ast.Node) -> str:
    """Text that parses back to a tree of the same shape as ``node``."""
    return _src(node, 0)


def _wrap(text: str, inner: int, outer: int) -> str:
    return f"({text})" if inner < outer else text


def _src(n: ast.Node, ctx: int) -> str:  # noqa: C901
    if isinstance(n, ast.Num):
        return n.text
    if isinstance(n, ast.Name):
        return n.id
    if chain_group(n) is not None:
        first, links = fold_chain(n)
        p = PRECEDENCE[links[0].op]
        text = _src(first, p)
        for link in links:  # a loop, not recursion: a sum of 10^4 terms is one level
            text += f" {link.op} {_src(link.right, p + 1)}"
        return _wrap(text, p, ctx)
    if isinstance(n, ast.BinOp):
        p = PRECEDENCE[n.op]
        if n.op == "^":
            return _wrap(f"{_src(n.left, p + 1)}^{_src(n.right, p)}", p, ctx)
        if n.op == "implicit":  # each sub-tree printed once: no time exponential in nesting
            if (isinstance(n.right, ast.Name | ast.Call | ast.Index | ast.Expect)
                    or (isinstance(n.right, ast.BinOp) and n.right.op == "^"
                        and isinstance(n.right.left, ast.Name))):
                right = _src(n.right, PRECEDENCE["^"])
            else:
                right = f"({_src(n.right, 0)})"
            return _wrap(f"{_src(n.left, PRECEDENCE['postfix'])}{right}", p, ctx)
    if isinstance(n, ast.Neg):
        neg = PRECEDENCE["neg"]
        return _wrap(f"-{_src(n.operand, neg)}", neg, ctx)
    if isinstance(n, ast.Postfix):
        inner = _src(n.operand, PRECEDENCE["postfix"])
        if isinstance(n.operand, ast.Postfix):
            inner = f"({inner})"  # "(n!)!" is not "n!!"
        return f"{inner}{n.op}"
    if isinstance(n, ast.Abs):
        return f"|{_src(n.operand, 0)}|"
    if isinstance(n, ast.Expect):
        return f"E[{_src(n.arg, 0)}]"
    if isinstance(n, ast.Var):
        return f"Var[{_src(n.arg, 0)}]"
    if isinstance(n, ast.Prob):
        return f"P[{_src(n.lhs, 0)} {n.rel} {_src(n.rhs, 0)}]"
    if isinstance(n, ast.Index):
        return f"{n.name}[{', '.join(_src(i, 0) for i in n.indices)}]"
    if isinstance(n, ast.ListExpr):
        return f"[{', '.join(_src(i, 0) for i in n.items)}]"
    if isinstance(n, ast.Binding):
        return f"{n.var} = {_src(n.lo, 0)}..{_src(n.hi, 0)}"
    if isinstance(n, ast.Member):
        return f"{n.var} in {_src(n.collection, 0)}"
    if isinstance(n, ast.Keyword):
        return f"{n.var} = {_src(n.value, 0)}"
    if isinstance(n, ast.Call):
        return f"{n.func}({', '.join(_src(a, 0) for a in n.args)})"
    raise TypeError(f"cannot print {type(n).__name__}")


def shape(node: Any) -> Any:
    """The tree without source positions (for comparing trees)."""
    if isinstance(node, ast.Node):
        fields = [(k, v) for k, v in vars(node).items() if k != "pos"]
        return (type(node).__name__, tuple((k, shape(v)) for k, v in fields))
    if isinstance(node, tuple):
        return tuple(shape(x) for x in node)
    return node
