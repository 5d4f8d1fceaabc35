"""What a judgement rests on: a ledger that rules and engines write to while a step is judged.

Like Lean's ``#print axioms``: every PROVED or VERIFIED step records the algorithms it trusted
(beyond the kernel, the elaborator and sympy's exact arithmetic, which every step trusts), so a
reviewer sees at once whether a theorem rests on, say, sympy's Gruntz limit or its integrator.
The catalogue below is the trusted base; ``docs/design.md`` lists the same entries, and a test
holds the two together. This module imports nothing of tpcheck, so every layer may use it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

#: Always trusted, by every step.
FOUNDATION = {
    "kernel": "the kernel (tpcheck/kernel): chain shape, judgement shapes, verdicts",
    "elaborator": "the elaborator's translation of the syntax into sympy objects (tpcheck/lang)",
    "sympy-arithmetic": "sympy's exact arithmetic on integers, rationals and expression trees, "
                        "and its assumptions system (is_integer, is_nonnegative, ...)",
}

#: Trusted where a step's ledger names it.
CATALOGUE = {
    "canonical-form": "canonical form over Q: sympy expand, together, cancel (tpcheck.engines.equality)",
    "hypergeometric-induction": "induction on equal term ratios f(k+1)/f(k) and a base case "
                                "(tpcheck.engines.hypergeometric, tpcheck.engines.equality)",
    "finite-evaluation": "finite sums, products and counting functions carried out exactly "
                         "(sympy doit at integer bounds)",
    "algebraic-constants": "equality of real constants by exact algebra whose side conditions "
                           "are signs certified by Arb: equal arguments of one function, equal "
                           "squares or cubes, vanishing products of sign-flipped conjugates "
                           "(tpcheck.engines.equality)",
    "transcendence": "a nonzero rational function over Q of pi alone, or of e alone, is not 0 "
                     "(Lindemann 1882, Hermite 1873)",
    "sympy-summation": "sympy's closed-form summation of a symbolic sum (Sum.doit)",
    "sympy-integrate": "sympy's definite integration (integrate)",
    "puiseux-limit": "limits at infinity read off a Puiseux expansion in powers of n "
                     "(tpcheck.engines.asymptotics)",
    "gruntz-limit": "the Gruntz algorithm (sympy.limit), for limits with no parameter",
    "sympy-evalf-strict": "sympy's adaptive certified evaluation, N(strict=True)",
    "arb": "Arb ball arithmetic and acb integration (python-flint): certified enclosures",
    "isserlis": "Isserlis/Wick moments of jointly Gaussian variables (tpcheck.engines.gaussian)",
    "gaussian-closed-forms": "closed forms of Gaussian expectations: moments, mgf, arc-cosine "
                             "and erf kernels (tpcheck.engines.gaussian, tpcheck.expectations.forms)",
    "iid-sums": "exact moments of sums of iid variables by set partitions (tpcheck.engines.iid_sums)",
    "pairings": "pairings, non-crossing pairings and partitions, genus (tpcheck.engines.combinatorics)",
    "random-matrix-moments": "exact finite-n moments of GUE, GOE, Wigner and Wishart matrices "
                             "(tpcheck.engines.random_matrices)",
    "z-calculus": "the Z-calculus and Master Theorem limits of tensor programs (tpcheck.engines.netsor)",
    "gradient-independence": "Yang's gradient independence (Tensor Programs II-III): with the readout an "
                             "independent centred vector used only at the output, a backward vector may be "
                             "taken independent of the weights it meets (tpcheck.rules.networks)",
    "abc-conditions": "TP4's stability, nontriviality and feature-learning conditions on abc exponents "
                      "(Thm 3.3, the Dynamical Dichotomy; per-layer learning rates and Adam after Everett "
                      "et al. 2024) in exact rational arithmetic; muP's uniqueness by sympy linsolve over Q "
                      "(tpcheck.engines.abc_parametrizations)",
    "width-experiments": "seeded numpy training of an MLP at several widths (tpcheck.engines.coord_check): "
                         "log-log slopes with Student-t intervals over seeds, and the best learning rate on "
                         "a grid (evidence for an exponent, never a proof: CORROBORATED only)",
    "mpmath-quadrature": "mpmath at high precision (floating point: CORROBORATED only)",
}

_LEDGER: list[str] = []
_COLLECTORS: list[list[str]] = []


def rests_on(name: str) -> None:
    """Record that the judgement being made trusts ``name`` (a key of :data:`CATALOGUE`)."""
    if name not in CATALOGUE:
        raise KeyError(f"not in the trusted-base catalogue: {name}")
    if name not in _LEDGER:
        _LEDGER.append(name)
    for names in _COLLECTORS:
        names.append(name)


def memoised(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn`` of one hashable argument, remembered with what it recorded (:func:`rests_on`),
    which a remembered answer records again: a memo never changes a judgement's ledger."""
    memo: dict[Any, tuple[Any, tuple[str, ...]]] = {}

    def remembered(arg: Any) -> Any:
        hit = memo.get(arg)
        if hit is None:
            names: list[str] = []
            _COLLECTORS.append(names)
            try:
                value = fn(arg)
            finally:
                _COLLECTORS.pop()  # this call's own list: nested calls end first
            if len(memo) >= 4096:
                memo.clear()
            hit = memo[arg] = (value, tuple(dict.fromkeys(names)))
        for name in hit[1]:
            rests_on(name)
        return hit[0]

    return functools.update_wrapper(remembered, fn)


def with_ledger(fn: Callable[..., Any], *args: Any) -> tuple[Any, list[str]]:
    """``fn(*args)`` and what it recorded with :func:`rests_on`, in order of first use."""
    _LEDGER.clear()
    try:
        return fn(*args), list(_LEDGER)
    finally:
        _LEDGER.clear()
