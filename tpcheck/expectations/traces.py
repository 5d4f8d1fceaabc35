"""Exact trace moments of the random-matrix ensembles: E tr M^k for GUE, GOE, Wigner and
Wishart matrices, and the genus form of GUE traces.

Pure functions over :mod:`tpcheck.engines.random_matrices` (normalisations there); ``ctx`` is
any :class:`~tpcheck.expectations.evaluators.Randoms`. Brute-force references, in the tests:
E tr M^k as the sum over index tuples (i_1, ..., i_k) of E[M_{i1 i2} ... M_{ik i1}], by Wick's
theorem over the entries (GUE, GOE) or by the entries' moments edge by edge (Wigner, Wishart).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from tpcheck.engines.heads import Expectation, GenusSum, TracePower
from tpcheck.engines.laws import MatrixEnsemble
from tpcheck.engines.random_matrices import (
    goe_trace_moment,
    gue_trace_moment,
    wigner_trace_moment,
    wishart_trace_moment,
)
from tpcheck.expectations.evaluators import Randoms
from tpcheck.expectations.forms import linear_normal_form
from tpcheck.trusted import rests_on

#: The largest powers valued exactly: closed walks (Wigner), Wick with twists (GOE), bipartite
#: walks (Wishart); their enumerations grow like the Bell numbers.
MAX_WALK_LENGTH = 10
MAX_GOE_LENGTH = 10
MAX_WISHART_POWER = 5


def trace_of(atom: Expectation, ctx: Randoms) -> tuple[MatrixEnsemble, sympy.Expr] | None:
    """(the ensemble of M, k) for ``E[tr(M^k)]`` with M a declared random matrix, else None."""
    arg = atom.args[0]
    if not isinstance(arg, TracePower):
        return None
    m, k = arg.args
    law = ctx.laws.get(m)
    return (law, k) if isinstance(law, MatrixEnsemble) else None


def genus_sum_value(gs: GenusSum) -> sympy.Expr | None:
    """genus_sum(n, k) = (1/n^{k+1}) E tr M^{2k} for GUE(n), a concrete k >= 0: the
    Harer-Zagier polynomial divided by n^{k+1}.

    Reference: Harer & Zagier (1986); theory facts §3.4. Brute-force reference:
    :func:`tpcheck.engines.random_matrices.gue_trace_moment_by_genus`."""
    n, k = gs.args
    if not k.is_Integer or k < 0:
        return None
    return sympy.expand(gue_trace_moment(2 * int(k), n) / n ** (k + 1))


def gue_genus_form(side: sympy.Expr, ctx: Randoms) -> sympy.Expr:
    """``side`` in linear normal form with every GUE trace moment in genus form:
    E tr M^k = 0 for odd k and n^{k/2 + 1} genus_sum(n, k/2) for even k (as far as the
    declarations decide the parity), every concrete genus_sum valued.

    Wick's theorem with E[M_ab M_cd] = d_ad d_bc: each pairing pi of the 2k factors of
    tr M^{2k} contributes n^{#cycles(gamma o pi)}, gamma the 2k-cycle.
    Reference: Harer & Zagier (1986); Mingo & Speicher, Free Probability and Random Matrices,
    ch. 1; theory facts §3.4."""
    nf = linear_normal_form(side, ctx.random_symbols)
    table = {}
    for atom in nf.atoms(Expectation):
        found = trace_of(atom, ctx)
        if found is None or found[0].kind != "GUE":
            continue
        law, k = found
        if ((k - 1) / 2).is_integer:
            table[atom] = sympy.Integer(0)
        elif (k / 2).is_integer:
            table[atom] = law.n ** (k / 2 + 1) * GenusSum(law.n, k / 2)
    if table:
        rests_on("random-matrix-moments")  # the Wick/genus form of E tr M^k is trusted here
    out = nf.xreplace(table)
    return out.replace(lambda e: isinstance(e, GenusSum),
                       lambda e: v if (v := genus_sum_value(e)) is not None else e)


def _with_entry_moments(law: MatrixEnsemble,
                        compute: Callable[[Callable[[int], sympy.Expr]], sympy.Expr]) -> sympy.Expr | None:
    """``compute(entry_moment)``, or None if it needed an entry moment that is not declared
    (one whose contributions do not all vanish)."""
    missing: list[sympy.Symbol] = []

    def entry(j: int) -> sympy.Expr:
        v = law.entry_moment(j)
        if v is None:
            missing.append(sympy.Symbol(f"_missing{j}"))
            return missing[-1]
        return v

    value = compute(entry)
    return None if any(m in value.free_symbols for m in missing) else value


def trace_moment_value(law: MatrixEnsemble, k: int) -> sympy.Expr | None:
    """E tr M^k exactly, a polynomial in the size (and the entry moments), or None beyond the
    enumeration limits or when an entry moment it needs is not declared.

    GUE: the Harer-Zagier recursion. GOE: Wick's theorem with the two terms of
    E[M_ab M_cd] = d_ac d_bd + d_ad d_bc (k <= 10). Wigner (zero diagonal): the sum over closed
    walks i_1 -> ... -> i_k -> i_1 grouped by shape; a shape with t indices occurs (n)_t times
    and weighs prod over its distinct edges of the entry moment of the edge's multiplicity
    (k <= 10). Wishart S = X X^T / N: bipartite closed walks i_1 -> j_1 -> i_2 -> ..., a shape
    occurring (p)_{rows} (N)_{columns} times, divided by N^k (k <= 5).
    Reference: Anderson, Guionnet & Zeitouni (2010), §2.1; Harer & Zagier (1986); theory facts
    §3.1, §3.4."""
    n = law.n
    if law.kind == "GUE":
        return gue_trace_moment(k, n)
    if law.kind == "GOE":
        return goe_trace_moment(k, n) if k <= MAX_GOE_LENGTH else None
    if law.kind == "Wishart":
        if k > MAX_WISHART_POWER:
            return None
        value = _with_entry_moments(
            law, lambda entry: wishart_trace_moment(k, n, law.columns, entry) / law.columns**k)
        return None if value is None else sympy.expand(value)
    if k > MAX_WALK_LENGTH:
        return None
    return _with_entry_moments(
        law, lambda entry: wigner_trace_moment(k, n, entry, lambda j: sympy.Integer(0)))


def exact_traces(side: sympy.Expr, ctx: Randoms, instance: dict) -> sympy.Expr:
    """``side`` at ``instance``, in linear normal form, with every E[tr M^k] of a concrete k
    that :func:`trace_moment_value` can value replaced by its value."""
    nf = linear_normal_form(side.xreplace(instance), ctx.random_symbols)
    table = {}
    for atom in nf.atoms(Expectation):
        found = trace_of(atom, ctx)
        if found is None or not found[1].is_Integer:
            continue
        law, k = found
        value = trace_moment_value(law, int(k))
        if value is not None:
            table[atom] = value
    return nf.xreplace(table)
