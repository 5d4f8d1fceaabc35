"""abc-parametrizations in the proof language: their declaration and the questions asked of them.

    let sp ~ Parametrization(standard, depth = 2)                       # a named point
    let mu ~ Parametrization(mup, depth = 2, optimizer = adam)
    let slow ~ Parametrization(standard, depth = 2, c = 1)              # SP with eta ~ 1/n
    let q ~ Parametrization(a = [0, 1/2, 1/2], b = 0, c = 0)            # explicit exponents

A declaration gives a name to an :class:`~tpcheck.engines.abc_parametrizations.AbcParametrization`
(docs/abc.md): a named point (``standard``, ``ntk``, ``mup``, ``mean_field``) at a concrete depth
L (the number of hidden layers; the layers are 1..L+1), or its exponents a, b, c, each a rational
number (the same for every layer) or a list of L+1 of them; named arguments a, b, c after a named
point replace its exponents. The optimizer is ``sgd`` (the default) or ``adam``.

The questions are heads (:data:`~tpcheck.engines.abc_parametrizations.HEADS`): ``stable(p)``,
``nontrivial(p)``, ``feature_learning(p)``, ``kernel_regime(p)``, ``maximal_update(p)``,
``equivalent(p, q)`` and ``unique_maximal_update(p)`` are 1 or 0; ``r(p)`` and
``update_exponent(p, l)``, ``init_exponent(p, l)``, ``own_update_exponent(p, l)``,
``lr_exponent(p, l)``, ``init_variance_exponent(p, l)``, ``multiplier_exponent(p, l)`` are
exponents of n. Each elaborates to an opaque
:class:`~tpcheck.engines.abc_parametrizations.ParametrizationHead` that carries the exponents, so
that the ``abc_classification`` rule, and no other, gives it its value and says why.

The elaborator calls :func:`declare_parametrization` for ``let NAME ~ Parametrization(...)`` and
:func:`parametrization_head` for a call whose name is in :data:`PARAMETRIZATION_HEADS`. The
declared parametrizations of a theorem live in its scope (:func:`declared_parametrizations`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from tpcheck.engines.abc_parametrizations import (
    HEADS,
    LAYER_EXPONENTS,
    NAMED_POINTS,
    OPTIMIZERS,
    AbcParametrization,
    ParametrizationError,
    exponent,
    named_parametrization,
)
from tpcheck.engines.abc_parametrizations import parametrization_head as build_head
from tpcheck.errors import ElaborationError
from tpcheck.lang import ast

#: The names of the questions a claim may ask of declared parametrizations.
PARAMETRIZATION_HEADS = tuple(HEADS)
#: The law of a declaration ``let p ~ Parametrization(...)``.
PARAMETRIZATION_LAW = "Parametrization"
_ARGUMENTS = ("depth", "optimizer", "a", "b", "c")


def declared_parametrizations(scope: Any) -> dict[str, AbcParametrization]:
    """The parametrizations declared in a theorem's scope, by name (kept on the scope)."""
    found = getattr(scope, "parametrizations", None)
    if found is None:
        found = {}
        scope.parametrizations = found
    return found


def declare_parametrization(el: Any, item: ast.LetLaw, declare: Callable[..., sympy.Symbol]
                            ) -> AbcParametrization:
    """``let p ~ Parametrization([name,] depth = L, optimizer = sgd | adam, a = .., b = .., c = ..)``.

    ``el`` is the theorem's Elaborator and ``declare`` its declaring function (which refuses a
    name declared twice or a built-in name). p names the parametrization in the heads only."""
    call = item.law
    if len(item.names) != 1:
        raise ElaborationError("declare one parametrization: let p ~ Parametrization(...)", call.pos)
    if item.moments:
        raise ElaborationError("a parametrization takes no 'with' moments", item.pos)
    name, pos = item.names[0]
    registry = declared_parametrizations(el.scope)
    if name in registry:
        raise ElaborationError(f"'{name}' is declared twice", pos)
    positional = [a for a in call.args if not isinstance(a, ast.Keyword)]
    named: dict[str, ast.Keyword] = {}
    for arg in call.args:
        if isinstance(arg, ast.Keyword):
            if arg.var not in _ARGUMENTS:
                raise ElaborationError(f"Parametrization: unknown argument '{arg.var}' (known: "
                                       f"{', '.join(_ARGUMENTS)})", arg.pos)
            if arg.var in named:
                raise ElaborationError(f"Parametrization: '{arg.var}' given twice", arg.pos)
            named[arg.var] = arg
    if len(positional) > 1 or (positional and not isinstance(positional[0], ast.Name)):
        raise ElaborationError(f"Parametrization: at most one named point first ({', '.join(NAMED_POINTS)})",
                               call.pos)
    point = positional[0].id if positional and isinstance(positional[0], ast.Name) else None
    optimizer = _optimizer(named.get("optimizer"))
    depth = _depth(el, named["depth"].value) if "depth" in named else None
    try:
        if point is not None:
            if depth is None:
                raise ElaborationError(f"Parametrization({point}, ...): give the depth, the "
                                       "number of hidden layers (depth = 2)", call.pos)
            base = named_parametrization(point, depth, optimizer)
            rows = {"a": base.a, "b": base.b, "c": base.c}
        else:
            missing = [key for key in ("a", "b", "c") if key not in named]
            if missing:
                raise ElaborationError(f"Parametrization: give a named point ({', '.join(NAMED_POINTS)}) "
                                       f"or every exponent (missing: {', '.join(missing)})", call.pos)
            lengths = [len(kw.value.items) for kw in named.values() if isinstance(kw.value, ast.ListExpr)]
            if depth is None and not lengths:
                raise ElaborationError("Parametrization: give the depth, or an exponent per layer "
                                       "(a list of depth + 1 numbers)", call.pos)
            depth = depth if depth is not None else lengths[0] - 1
            rows = {}
        for key in ("a", "b", "c"):
            if key in named:
                rows[key] = _exponent_row(el, named[key], depth)
        p = AbcParametrization(rows["a"], rows["b"], rows["c"], optimizer, name)
        if p.hidden_layers != depth:
            raise ParametrizationError(f"{name} has {p.hidden_layers} hidden layers, not depth = {depth}")
        build_head("stable", [p])  # the limits on the depth
    except ParametrizationError as exc:
        raise ElaborationError(f"Parametrization: {exc}", call.pos) from None
    declare(name, pos)
    del el.scope.symbols[name]  # p names the parametrization in the heads only
    registry[name] = p
    return p


def _optimizer(keyword: ast.Keyword | None) -> str:
    if keyword is None:
        return "sgd"
    if not isinstance(keyword.value, ast.Name) or keyword.value.id not in OPTIMIZERS:
        raise ElaborationError(f"Parametrization: the optimizer is one of {', '.join(OPTIMIZERS)}",
                               keyword.pos)
    return keyword.value.id


def _rational(el: Any, node: ast.Node, what: str) -> sympy.Rational:
    value = el.expr(node)
    if not isinstance(value, sympy.Rational):
        raise ElaborationError(f"{what} must be a rational number, not {value}", node.pos)
    return value


def _depth(el: Any, node: ast.Node) -> int:
    value = _rational(el, node, "the depth")
    if not value.is_Integer or value < 1:
        raise ElaborationError("the depth (the number of hidden layers) is an integer >= 1", node.pos)
    return int(value)


def _exponent_row(el: Any, keyword: ast.Keyword, depth: int) -> tuple:
    """The exponents of one column: one number for every layer, or a list of depth + 1."""
    node = keyword.value
    if isinstance(node, ast.ListExpr):
        if len(node.items) != depth + 1:
            raise ElaborationError(f"Parametrization: {keyword.var} needs {depth + 1} exponents (layers "
                                   f"1..{depth + 1}), got {len(node.items)}", node.pos)
        return tuple(exponent(_rational(el, x, f"an exponent of {keyword.var}")) for x in node.items)
    return (exponent(_rational(el, node, f"the exponent {keyword.var}")),) * (depth + 1)


def parametrization_head(el: Any, node: ast.Call) -> sympy.Expr:
    """``stable(p)``, ``equivalent(p, q)``, ``update_exponent(p, l)``, ...: the opaque head that
    carries the declared parametrizations' exponents and the (concrete) layer."""
    kind = node.func
    points, layers = HEADS[kind]
    usage = ", ".join(["p", "q"][:points] + ["l"] * layers)
    if len(node.args) != points + layers:
        raise ElaborationError(f"write {kind}({usage}) for declared parametrizations"
                               + (" and a layer l" if layers else ""), node.pos)
    registry = declared_parametrizations(el.scope)
    found = []
    for arg in node.args[:points]:
        if not isinstance(arg, ast.Name) or arg.id not in registry:
            shown = arg.id if isinstance(arg, ast.Name) else "this"
            raise ElaborationError(f"{kind}: '{shown}' is not a declared parametrization (let p ~ "
                                   "Parametrization(mup, depth = 2))", arg.pos)
        found.append(registry[arg.id])
    numbers = []
    for arg in node.args[points:]:
        value = _rational(el, arg, "a layer")
        if not value.is_Integer:
            raise ElaborationError(f"{kind}: a layer is an integer, not {value}", arg.pos)
        numbers.append(int(value))
    try:
        return build_head(kind, found, numbers)
    except ParametrizationError as exc:
        last = "L+1" if kind in LAYER_EXPONENTS and LAYER_EXPONENTS[kind][1] else "L"
        raise ElaborationError(f"{exc} (layers are 1..{last} for {kind})", node.pos) from None
