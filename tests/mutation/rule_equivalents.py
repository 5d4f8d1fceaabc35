"""Mutants of the rules and the exact-expectation layer (tpcheck/rules/, tpcheck/expectations/)
that no test can tell from the original, with the reason: (function, the line mutmut removes,
the lines it may put instead, why)."""

GROUPS: list[tuple[str, str, list[str], str]] = [
    ("gaussian_moment_value", "for j in range(int(m) + 1)", ["for j in range(int(m) + 2)"],
     "the extra term j = m + 1 carries binomial(m, m + 1) = 0 for an integer m >= 0"),
    ("sum_power_value", "if k < 0:", ["if k <= 0:"],
     "no power reaches it with exponent 0: sympy evaluates S^0 to 1 before an expectation is "
     "formed (tests/test_rule_mutants.py checks k = 1..4 directly)"),
    ("independence_class", 'return ("symbol", v)', ['return ("XXsymbolXX", v)'],
     "the tag only keeps a plain random symbol's key apart from the 'member' and 'vector' keys, "
     "which any other string does as well"),
    ("linear_normal_form",
     'total += c if r == 1 else c * Expectation(sympy.powsimp(r, combine="exp"))',
     ["total += c if r == 1 else c * Expectation(sympy.powsimp(r, ))"],
     "random symbols are declared real, never positive, and powsimp joins bases (x^a y^a = "
     "(x y)^a) only under positivity, so its default combine='all' only joins exponents, as "
     "combine='exp' does"),
    ("suggest", "judgement = verifier(goal, (), ctx)", ["judgement = verifier(goal, None, ctx)"],
     "none of the rules in SUGGESTIONS reads its arguments (only definition, eval and induction "
     "do, and they are not suggested)"),
    ("_gaussian_atom", 'x = sympy.Dummy("x", real=True)', ['x = sympy.Dummy("XXxXX", real=True)'],
     "a Dummy is told apart by identity, not by name, and the integration variable's name "
     "appears in no output"),
    ("_certified_sign", 'if approx.is_Float and abs(approx) > sympy.Float("1e-40", 50):',
     ['if approx.is_Float and abs(approx) > sympy.Float("1e-40", None):'],
     "the threshold 10^-40 is the same number at sympy's default precision; only the comparison's "
     "working precision changes, and a 50-digit value is compared exactly either way"),
    ("pairings_formula", "if ((m - 1) / 2).is_integer and m.is_nonnegative:",
     ["if ((m + 1) / 2).is_integer and m.is_nonnegative:"],
     "for an integer m, (m - 1)/2 and (m + 1)/2 differ by 1: both are integers exactly when m is "
     "odd, and sympy decides both alike for symbolic m (2k + 1, 2k)"),
    ("sample_instances",
     "symbols = free_deterministic_symbols(goal.lhs, goal.rhs, ctx.laws, goal.limit_var)",
     ["symbols = free_deterministic_symbols(goal.lhs, goal.rhs, ctx.laws, )"],
     "numeric justifies '=' and '~=' steps only, whose goals have no limit variable: the "
     "argument is None, the default"),
]
