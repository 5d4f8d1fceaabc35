"""Mutation testing of the proof library (tests/mutation/library.py): no false mutant of a
library theorem may pass the checker. The default tier runs the harness's own checks and a
seeded sample of 40 mutants; the slow tier runs 14 mutants of every theorem (about 1100, some
5 minutes on 2 cores). All 3800-odd: ``python -m tests.mutation.library --jobs 2``."""

from __future__ import annotations

import pytest

from tests.mutation.library import (
    FALSE,
    FULL_PER_THEOREM,
    MUTATION_KINDS,
    TRUE,
    UNKNOWN,
    Mutant,
    MutantResult,
    OracleVerdict,
    library_mutants,
    oracle,
    parse,
    per_theorem,
    round_trip_problems,
    run_mutant,
    run_mutants,
    select,
    summarise,
    theorem_sources,
)

FAST_SAMPLE, FAST_SEED = 40, 2024


#: Marks of theorems the independent oracle cannot judge (NETSOR-T programs, declared networks,
#: laws, parametrizations): their mutants can never be found false, so running them here would
#: cost minutes and test nothing; their rules are held by their own tests and bad proofs.
BEYOND_ORACLE = ("transpose(", "~ MLP(", " ~> ", "~ Parametrization(")


@pytest.fixture(scope="module")
def mutants() -> list[Mutant]:
    return library_mutants()


def judgeable(mutants: list[Mutant]) -> list[Mutant]:
    """The mutants of theorems the oracle can judge."""
    return [m for m in mutants if not any(mark in m.text for mark in BEYOND_ORACLE)]


def theorem(text: str):
    (t,) = parse(text).theorems
    return t


def source(root, file: str, name: str):
    return next(s for s in theorem_sources(root / "proofs" / file) if s.tree.name == name)


def test_every_theorem_prints_back_to_itself(root):
    problems = [p for f in sorted((root / "proofs").glob("*.tp")) for s in theorem_sources(f)
                for p in round_trip_problems(s)]
    assert problems == []


def test_mutants_are_many_distinct_and_of_every_kind(mutants):
    assert len(mutants) >= 1000
    assert len({m.text for m in mutants}) == len(mutants)
    assert {m.kind for m in mutants} == set(MUTATION_KINDS)
    assert len(per_theorem(mutants, FULL_PER_THEOREM)) >= 1000
    m = next(m for m in mutants if m.theorem == "gaussian_fourth_moment" and m.kind == "claim+end"
             and "3 -> 4" in m.description)
    assert "claim E[Z^4] = 4s^4" in m.text and "= 4s^4 by algebra" in m.text


def test_the_oracle_finds_every_library_claim_true(root):
    sources = [s for f in sorted((root / "proofs").glob("*.tp")) for s in theorem_sources(f)]
    verdicts = {s.tree.name: oracle(s.tree, 1) for s in sources}
    assert [n for n, v in verdicts.items() if v.status == FALSE] == []
    # Programs with transposes (NETSOR-T, Zdot) and declared networks (MLP heads) are beyond
    # the oracle; it knows all the rest.
    transposes = {s.tree.name for s in sources if "transpose(" in s.render({})}
    networks = {s.tree.name for s in sources if "~ MLP(" in s.render({})}
    # so are claims about laws (convergence in distribution) and about parametrizations
    laws = {s.tree.name for s in sources if " ~> " in s.render({})}
    exponents = {s.tree.name for s in sources if "~ Parametrization(" in s.render({})}
    beyond = transposes | networks | laws | exponents
    assert {n for n, v in verdicts.items() if v.status == UNKNOWN} == beyond
    assert len(transposes - networks) <= 5


@pytest.mark.parametrize(("text", "status"), [
    ("let s : positive real\n let Z ~ Normal(0, s^2)\n claim E[Z^4] = 2s^4", FALSE),
    ("let s : positive real\n let Z ~ Normal(0, s^2)\n claim E[Z^4] = 3s^4", TRUE),
    ("claim catalan(5) = 43", FALSE),
    ("let n : positive integer\n let x : real\n claim (1 + x/n)^n -> exp(2x) as n -> oo", FALSE),
    ("let n : positive integer\n let x : real\n claim (1 + x/n)^n -> exp(x) as n -> oo", TRUE),
    ("let a : positive real\n let Z ~ Normal(0, 1)\n claim P[Z^2 >= a] <= 1/(4a)", FALSE),
    ("let n : positive integer\n let eps : positive real\n let X[1..n] iid with E[X] = 0, E[X^2] = 1\n"
     " claim P[|sum(X[i], i = 1..n)/n| >= eps] < 1/(n*eps^2)", FALSE),
    ("let n : positive integer\n let M ~ GOE(n)\n claim E[tr(M^4)] = 2n^3 + 5n^2 + 4n", FALSE),
    ("let n : positive integer\n let X[1..n] iid with E[X] = 0, E[X^2] = 1, E[X^4] = m4\n"
     " claim E[(sum(X[i], i = 1..n)/sqrt(n))^4] -> 3 as n -> oo", TRUE),
    ("claim integral(sqrt(4 - x^2)/(2pi), x, -2, 2) ~= 1.001 within 1e-4", FALSE),
    ("let n : positive integer\n let x ~ Vector(n)\n let W ~ Matrix(n, 2)\n let y = W*relu(x)\n"
     " claim avg(y^2) -> 1 as n -> oo", TRUE),
    ("let Z ~ Normal(0, 1)\n claim E[Z * tanh(Z)] ~= 0.6057055096021588255835402 within 1e-24", TRUE),
    ("let Z ~ Normal(0, 1)\n claim E[Z * tanh(Z)] ~= 0.6057055096021588255835502 within 1e-24", FALSE),
])
def test_the_oracle_on_known_claims(text, status):
    t = theorem(f"theorem known\n {text}\nproof\n 0\n = 0 by algebra\nqed\n")
    assert oracle(t, 7).status == status


def test_a_false_mutant_that_passes_is_reported(root):
    # The unmutated theorem, which tpcheck proves, passed off as false by a fake oracle.
    src = source(root, "gaussian_moments.tp", "gaussian_fourth_moment")
    m = Mutant(src.file, src.tree.name, "claim+end", "none (a fake oracle calls it false)", src.render({}))
    r = run_mutant(m, oracle_fn=lambda t, seed: OracleVerdict(FALSE, "fake counterexample"))
    assert r.verdict == "PROVED" and r.accepted
    s = summarise(1, [r], 0.0)
    assert s.accepted == [r]
    assert "ACCEPTED false mutants (soundness bugs): 1" in s.text()
    assert "fake counterexample" in s.text()


def test_partial_is_counted_apart_and_file_errors_reject(mutants):
    m = mutants[0]
    partial = MutantResult(m, FALSE, "k = 7", "PARTIAL")
    rejected = MutantResult(m, FALSE, "k = 7", "FILE ERROR")
    s = summarise(2, [partial, rejected], 0.0)
    assert s.partial == [partial] and s.accepted == []


def test_a_generated_false_mutant_is_refuted(mutants):
    m = next(m for m in mutants if m.theorem == "gaussian_fourth_moment" and m.kind == "claim+end"
             and "3 -> 4" in m.description)
    r = run_mutant(m)
    assert r.oracle == FALSE and r.verdict == "REFUTED" and not r.accepted


@pytest.mark.slow
def test_a_seeded_sample_has_no_accepted_false_mutant(mutants):
    results = run_mutants(select(per_theorem(judgeable(mutants), FULL_PER_THEOREM), FAST_SAMPLE,
                                 FAST_SEED), jobs=2)
    s = summarise(len(mutants), results, 0.0)
    assert len(results) == FAST_SAMPLE
    assert s.oracle[FALSE] >= 10
    assert s.accepted == [], s.text()


@pytest.mark.slow
def test_no_false_mutant_of_the_library_is_accepted(mutants):
    results = run_mutants(per_theorem(judgeable(mutants), FULL_PER_THEOREM), budget=20.0, jobs=2)
    s = summarise(len(mutants), results, 0.0)
    assert len(results) >= 1000
    assert s.accepted == [], s.text()
