"""Export the steps of elaborated theorems as Coq lemmas.

One ``.v`` text per theorem, one lemma per exportable step, stating exactly the step: its
variables quantified with their domains (a natural number, a positive real, ...), the theorem's
assumptions and the denominators that tpcheck's algebra assumes nonzero as hypotheses. A step
over a parameter with a declared finite range (a VERIFIED step) becomes one lemma per instance.
The steps that are not exported are listed with the reason (an expectation, a limit, an
integral, an approximation, a special function, a count the prelude does not define).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy

from tpcheck.coq.translate import (
    ENUMERATION_HEADS,
    PROBABILITY_HEADS,
    NotExportable,
    Translator,
    Variables,
    coq_name,
)
from tpcheck.engines.abc_parametrizations import ParametrizationHead
from tpcheck.kernel.proof import Context, Goal, Step, Theorem

#: The most instances of a finitely ranged step exported one by one.
MAX_INSTANCES = 200
#: Kinds of steps; the share counts the first two.
ALGEBRAIC, FINITE = "algebraic", "finite-combinatorial"
SHARE_KINDS = (ALGEBRAIC, FINITE)
KINDS = (ALGEBRAIC, FINITE, "combinatorial-theorem", "expectation", "limit", "integral",
         "approximation", "parametrization")
_COUNTING = (sympy.factorial, sympy.factorial2, sympy.binomial, sympy.catalan, sympy.Sum)
_RELATIONS = {"=": "=", "<=": "<=", "<": "<", ">=": ">=", ">": ">"}
_ASSUMPTION_RELATIONS = {**_RELATIONS, "!=": "<>"}
PRELUDE_PATH = Path(__file__).with_name("prelude.v")
#: The logical name the lemmas import the prelude under.
LIBRARY = "TPCheck"
PRELUDE_MODULE = "tp_prelude"


@dataclass
class Lemma:
    """One Coq lemma: a step (or an instance of it, or the identity it reduces to)."""

    name: str
    theorem: str
    line: int
    col: int
    role: str  # "step", "instance" or "reduced"
    statement: str
    proof: str
    decisive: bool  # whether Coq's tactics decide the statement (a failure is a disagreement)
    source: str
    path: str = ""

    def text(self) -> str:
        what = {"step": "step", "instance": "instance of the step",
                "reduced": "identity under the expectations of the step"}[self.role]
        return (f"(* {what} at line {self.line}: {_comment(self.source)} *)\n"
                f"Lemma {self.name} : {self.statement}.\nProof.\n  {self.proof}\nQed.\n")


@dataclass
class Skipped:
    """A step not exported, and why."""

    theorem: str
    line: int
    col: int
    rule: str
    kind: str
    reason: str
    source: str


@dataclass
class StepExport:
    """What became of one step: its kind, its lemmas (none when skipped) and the reason."""

    theorem: str
    line: int
    col: int
    rule: str
    kind: str
    lemmas: list[Lemma] = field(default_factory=list)
    reduced: list[Lemma] = field(default_factory=list)
    reason: str = ""


@dataclass
class TheoremExport:
    """The Coq export of one theorem."""

    name: str
    path: str
    steps: list[StepExport]

    @property
    def lemmas(self) -> list[Lemma]:
        return [lem for s in self.steps for lem in s.lemmas + s.reduced]

    @property
    def skipped(self) -> list[Skipped]:
        return [Skipped(self.name, s.line, s.col, s.rule, s.kind, s.reason, "")
                for s in self.steps if not s.lemmas]

    @property
    def file_name(self) -> str:
        return f"{module_name(self.path, self.name)}.v"

    def text(self) -> str:
        """The ``.v`` file: the prelude imported, the lemmas, the steps not exported."""
        out = [f"(* tpcheck export of theorem '{_comment(self.name)}' ({_comment(self.path)}). *)",
               f"From {LIBRARY} Require Import {PRELUDE_MODULE}.",
               "Require Import Reals Lra Lia ZArith.", "Open Scope R_scope.", ""]
        for lem in self.lemmas:
            out.append(lem.text())
        for s in self.steps:
            if not s.lemmas:
                out.append(f"(* not exported: step at line {s.line} (by {s.rule}): "
                           f"{_comment(s.reason)} *)")
        return "\n".join(out) + "\n"


def _comment(text: str) -> str:
    """Text safe inside a Coq comment."""
    return text.replace("(*", "( *").replace("*)", "* )")


def module_name(path: str, theorem: str) -> str:
    """A Coq module name for a theorem of a file: ``<file stem>__<theorem>``."""
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(path).stem)
    return f"tp_{stem}__{re.sub(r'[^A-Za-z0-9_]', '_', theorem)}"


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


# -- classification ---------------------------------------------------------------------------
def step_kind(goal: Goal, ctx: Context) -> str:
    """The kind of a step, from the mathematics in it."""
    sides = (goal.lhs, goal.rhs)
    if goal.rel in ("->", "~>"):
        return "limit"
    if any(s.has(ParametrizationHead) for s in sides):
        return "parametrization"
    if goal.rel == "~=" or goal.tolerance is not None:
        return "approximation"
    randoms = ctx.random_symbols
    if any(s.has(*PROBABILITY_HEADS) or s.free_symbols & randoms
           or any(i.base.label in randoms for i in s.atoms(sympy.Indexed)) for s in sides):
        return "expectation"
    if any(s.has(sympy.Integral) for s in sides):
        return "integral"
    unbounded = {p.symbol for p in ctx.parameters if p.hi is None}
    unbounded |= {s for side in sides for s in side.free_symbols
                  if s.is_integer and ctx.parameter(s) is None}
    for side in sides:
        for e in side.atoms(*ENUMERATION_HEADS, sympy.Sum):
            if isinstance(e, sympy.Sum):
                if any(lim.free_symbols & unbounded for lim in e.limits[0][1:]):
                    return "combinatorial-theorem"
            elif e.free_symbols & unbounded:
                return "combinatorial-theorem"
    if any(s.has(*_COUNTING, *ENUMERATION_HEADS) for s in sides):
        free = {s for side in sides for s in side.free_symbols}
        if not free & unbounded:
            return FINITE
    return ALGEBRAIC


_SKIP_REASONS = {
    "expectation": "an expectation, probability or random object (the identity it reduces to is "
                   "exported where the exact engines give one)",
    "limit": "a limit as n -> oo",
    "integral": "an integral",
    "approximation": "an approximation within a tolerance (a number known to some digits)",
    "parametrization": "a question about an abc-parametrization (its exponents are decided in exact "
                       "rationals by the engine; the Coq prelude has no parametrizations)",
    "combinatorial-theorem": "a combinatorial theorem for every size (a count at a symbolic size "
                             "or a sum with a symbolic bound), which needs a Coq proof by "
                             "induction the prelude does not have",
}


# -- variables and hypotheses -----------------------------------------------------------------
def _variables(goal: Goal, ctx: Context) -> Variables:
    """The lemma's variables: naturals (parameters and non-negative integers) and reals."""
    v = Variables()
    free = goal.lhs.free_symbols | goal.rhs.free_symbols
    for s in sorted(free, key=lambda x: x.name):
        if s in ctx.laws:
            raise NotExportable(f"'{s}' is random")
        p = ctx.parameter(s)
        if p is not None:
            if p.lo < 0:
                raise NotExportable(f"the parameter '{s}' may be negative")
            v.nat[s] = (p.lo, p.hi)
        elif s.is_integer:
            if not s.is_nonnegative:
                raise NotExportable(f"the integer '{s}' may be negative")
            v.nat[s] = (1 if s.is_positive else 0, None)
        elif s.is_extended_real:
            v.real[s] = "pos" if s.is_positive else "nonneg" if s.is_nonnegative else ""
        else:
            raise NotExportable(f"'{s}' is a complex variable (the identity is not one over R)")
    return v


def _binders(v: Variables) -> tuple[list[str], list[str], list[str]]:
    """Binders, hypotheses and the positivity facts a proof needs."""
    binders, hyps, facts = [], [], []
    for s, (lo, hi) in v.nat.items():
        name = coq_name(s.name)
        binders.append(f"({name} : nat)")
        if lo > 0:
            hyps.append(f"({lo} <= {name})%nat")
            facts.append(f"pose proof (lt_0_INR {name} ltac:(lia)).")
        else:
            facts.append(f"pose proof (pos_INR {name}).")
        if hi is not None:
            hyps.append(f"({name} <= {hi})%nat")
    for s, sign in v.real.items():
        name = coq_name(s.name)
        binders.append(f"({name} : R)")
        if sign == "pos":
            hyps.append(f"0 < {name}")
        elif sign == "nonneg":
            hyps.append(f"0 <= {name}")
    return binders, hyps, facts


def _provably_nonzero(e: sympy.Expr, v: Variables) -> bool:
    subs = {s: sympy.Symbol(s.name, integer=True, nonnegative=True) + lo
            for s, (lo, _) in v.nat.items() if s in e.free_symbols}
    e = e.xreplace(subs)
    return bool(e.is_positive or e.is_negative)


def _root_tactics(roots: list[str]) -> list[str]:
    """For each square root of a variable term b > 0: name it r, replace b by r * r (so that
    field sees a polynomial identity in r) and keep 0 < r."""
    lines = []
    for i, b in enumerate(roots):
        r = f"tp_r{i}"
        lines += [f"assert ({r}_pos : 0 < sqrt {b}) by (apply sqrt_lt_R0; tp_positive).",
                  f"assert ({r}_sq : {b} = sqrt {b} * sqrt {b}) by "
                  f"(rewrite sqrt_sqrt; [reflexivity | left; tp_positive]).",
                  f"set ({r} := sqrt {b}) in *.", f"clearbody {r}.",
                  f"rewrite ?{r}_sq; clear {r}_sq."]
    return lines


def _proof(rel: str, ground: bool, rewrites: list[str], facts: list[str],
           roots: list[str] = ()) -> str:
    """The tactic script of a lemma."""
    if ground and rel == "=":
        return "intros.\n  tp_ground."
    lines = ["intros."]
    if rel == "=":
        unfolds = [r for r in rewrites if r.startswith("unfold")]
        lines += list(dict.fromkeys(unfolds + [r for r in rewrites if r not in unfolds]))
        lines += ["rewrite ?tp_fact_S.", "tp_push."] + facts
        if roots and all(re.fullmatch(r"\(INR v_\w+\)|v_\w+", b) for b in roots):
            lines += _root_tactics(list(roots))
        lines.append("first [ reflexivity | field; tp_nonzero | ring ].")
    else:
        lines += ["tp_push."] + facts + ["first [ lra | nra ]."]
    return "\n  ".join(lines)


def goal_lemma(name: str, goal: Goal, ctx: Context, step: Step, role: str) -> Lemma:
    """The lemma stating ``goal`` exactly; raises NotExportable with the reason."""
    if goal.rel not in _RELATIONS:
        raise NotExportable(f"the relation '{goal.rel}'")
    v = _variables(goal, ctx)
    tr = Translator(v)
    lhs, rhs = tr.real(goal.lhs), tr.real(goal.rhs)
    binders, hyps, facts = _binders(v)
    for a_lhs, a_rel, a_rhs in ctx.assumptions:
        free = a_lhs.free_symbols | a_rhs.free_symbols
        if not free & (set(v.nat) | set(v.real)):
            continue
        if not free <= set(v.nat) | set(v.real) or a_rel not in _ASSUMPTION_RELATIONS:
            raise NotExportable(f"the assumption {a_lhs} {a_rel} {a_rhs} is not a statement "
                                "about this step's variables over R")
        hyps.append(f"{tr.real(a_lhs)} {_ASSUMPTION_RELATIONS[a_rel]} {tr.real(a_rhs)}")
    for d in dict.fromkeys(tr.denominators):
        if not _provably_nonzero(d, v) and not d.is_number:
            hyps.append(f"{tr.real(d)} <> 0")
    head = ("forall " + " ".join(binders) + ", ") if binders else ""
    statement = head + "".join(f"{h} -> " for h in hyps) + f"{lhs} {_RELATIONS[goal.rel]} {rhs}"
    ground = not v.nat  # every counting argument is a number: evaluate
    atoms = any(s.has(sympy.Pow) and any(p.exp.is_Rational and not p.exp.is_Integer
                                         for p in s.atoms(sympy.Pow))
                or s.has(sympy.exp, sympy.Abs, sympy.pi) for s in (goal.lhs, goal.rhs))
    decisive = goal.rel == "=" and (ground or (not tr.counting and not atoms))
    return Lemma(name, "", step.line, step.col, role, statement,
                 _proof(goal.rel, ground, tr.rewrites, facts, tr.roots), decisive, step.source)


def _instances(goal: Goal, ctx: Context) -> list[dict[sympy.Symbol, int]] | None:
    """The instances of the finitely ranged parameters in the goal (None: there are none)."""
    free = goal.lhs.free_symbols | goal.rhs.free_symbols
    ranged = [p for p in ctx.parameters if p.hi is not None and p.symbol in free]
    if not ranged:
        return None
    out: list[dict[sympy.Symbol, int]] = [{}]
    for p in ranged:
        out = [{**d, p.symbol: k} for d in out for k in range(p.lo, p.hi + 1)]
        if len(out) > MAX_INSTANCES:
            raise NotExportable(f"more than {MAX_INSTANCES} instances of the declared range")
    return out


def export_step(theorem: Theorem, step: Step, index: int) -> StepExport:
    """The lemmas of one step, or the reason it is not exported."""
    ctx = theorem.context
    kind = step_kind(step.goal, ctx)
    out = StepExport(theorem.name, step.line, step.col, step.rule, kind)
    base = f"{_ident(theorem.name)}_step{index}_line{step.line}"
    if kind in _SKIP_REASONS:
        out.reason = _SKIP_REASONS[kind]
        if kind == "expectation":
            lem = reduced_lemma(f"{base}_reduced", theorem, step)
            if lem is not None:
                lem.theorem = theorem.name
                out.reduced.append(lem)
        return out
    try:
        instances = _instances(step.goal, ctx)
        if instances is None:
            lemmas = [goal_lemma(base, step.goal, ctx, step, "step")]
        else:
            lemmas = []
            for inst in instances:
                g = step.goal
                goal = Goal(g.lhs.subs(inst), g.rel, g.rhs.subs(inst), g.limit_var, g.tolerance)
                suffix = "_".join(f"{_ident(s.name)}{k}" for s, k in inst.items())
                lemmas.append(goal_lemma(f"{base}_{suffix}", goal, ctx, step, "instance"))
    except NotExportable as exc:
        out.reason = str(exc)
        return out
    for lem in lemmas:
        lem.theorem = theorem.name
    out.lemmas = lemmas
    return out


def export_theorem(theorem: Theorem, path: str) -> TheoremExport:
    """The Coq export of one elaborated theorem of the file ``path``."""
    out = TheoremExport(theorem.name, path,
                        [export_step(theorem, s, i + 1) for i, s in enumerate(theorem.steps)])
    for lem in out.lemmas:
        lem.path = path
    return out


def prelude_text() -> str:
    """The Coq prelude's text."""
    return PRELUDE_PATH.read_text()


def write_exports(exports: list[TheoremExport], outdir: str | Path) -> list[Path]:
    """Write the prelude, a ``_CoqProject`` and one ``.v`` file per theorem into ``outdir``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / f"{PRELUDE_MODULE}.v").write_text(prelude_text())
    files = [f"{PRELUDE_MODULE}.v"] + [e.file_name for e in exports]
    (outdir / "_CoqProject").write_text(f"-Q . {LIBRARY}\n" + "\n".join(files) + "\n")
    written = []
    for e in exports:
        p = outdir / e.file_name
        p.write_text(e.text())
        written.append(p)
    return written


# ---- the identity under the probability ------------------------------------------------
#
# The identity under the probability: what an expectation step reduces to once the exact
# engines have evaluated every expectation (Gaussian moments, Isserlis/Wick, moments of iid
# family members, moments of sums by set partitions).
#
# For ``E[X1 X2 X3 X4] = c12 c34 + c13 c24 + c14 c23 by wick`` the engines give the sum over the
# pairings of products of covariances; the reduced identity states that this value equals the
# right side, a polynomial identity Coq can re-check, so the algebra under the probability is
# re-checked even where the probability is not. The lemma names the engine's value, so what it
# re-checks is exactly "engine value = right side", not the expectation step itself.


def reduced_identity(theorem: Theorem, step: Step) -> tuple[sympy.Expr, sympy.Expr] | None:
    """Both sides of an '=' step with every expectation evaluated exactly, or None when an
    expectation remains (or the engines do not apply)."""
    from tpcheck.expectations.evaluators import exact_expectations, unfold_variance

    goal, ctx = step.goal, theorem.context
    if goal.rel != "=" or goal.tolerance is not None:
        return None
    try:
        sides = [exact_expectations(unfold_variance(s), ctx) for s in (goal.lhs, goal.rhs)]
    except Exception:  # noqa: BLE001  (an engine that cannot value a term gives no reduction)
        return None
    randoms = ctx.random_symbols
    for s in sides:
        if s.has(*PROBABILITY_HEADS) or s.free_symbols & randoms or any(
                i.base.label in randoms for i in s.atoms(sympy.Indexed)):
            return None
    return sides[0], sides[1]


def reduced_lemma(name: str, theorem: Theorem, step: Step) -> Lemma | None:
    """The lemma "engine value of the left side = engine value of the right side", or None."""
    pair = reduced_identity(theorem, step)
    if pair is None:
        return None
    try:
        return goal_lemma(name, Goal(pair[0], "=", pair[1]), theorem.context, step, "reduced")
    except NotExportable:
        return None
