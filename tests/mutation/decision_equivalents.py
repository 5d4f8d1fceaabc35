"""Mutants of the decision procedures (equality, hypergeometric, limits) that no test can tell
from the original, with the reason: (function, the line mutmut removes, the lines it may put
instead, why)."""

SIGN_OF_OO = ("sign only multiplies oo, and k oo = oo for every k > 0: a factor 2 (or -2 for -1)"
              " leaves the sign of the product, hence its limit +-oo, unchanged")

GROUPS: list[tuple[str, str, list[str], str]] = [
    ("_linear", "if a.free_symbols & {k} or b.free_symbols & {k}:",
     ["if a.free_symbols & {k} and b.free_symbols & {k}:"],
     "a and b are coefficients of Poly(arg, k), which raises PolynomialError for any arg whose "
     "coefficients would contain k (k sin(k), k^k, 2^k): both tests are always false"),
    ("_product", "return sympy.Mul(*terms) if terms else sympy.Integer(1)",
     ["return sympy.Mul(*terms) if (terms) or True else sympy.Integer(1)",
      "return sympy.Mul(*terms) if terms else sympy.Integer(None)",
      "return sympy.Mul(*terms) if terms else sympy.Integer(2)"],
     "Mul() of no factors is 1, and no list is empty: the factors of a Mul (two at least), a "
     "factorial's a >= 1 factors (a is a nonnegative integer, nonzero as the argument contains k) "
     "or a gamma's a >= 1 factors"),
    ("term_ratio", "if lp is None or lq is None:", ["if lp is None and lq is None:"],
     "when only one of p, q fails _linear, the rewritten factorial(p)/(factorial(q) "
     "factorial(p - q)) has a factorial of it (or of p - q, which fails _linear too), and the term "
     "ratio of that factorial applies the same _linear test: term_ratio is None either way"),
    ("term_ratio", "extra = LinearCondition(a, b, -1)", ["extra = LinearCondition(a, b, -2)"],
     "in this branch a is even and b odd, so a k + b is odd, and an odd integer is >= -2 iff it "
     "is >= -1"),
    ("_puiseux_form", "q = lcm(*[int(r.q) for r in exps]) if exps else 1",
     ["q = lcm(*[int(r.q) for r in exps]) if (exps) or True else 1",
      "q = lcm(*[int(r.q) for r in exps]) if exps else 2"],
     "math.lcm() of no arguments is 1; and exps is never empty: both callers return earlier when "
     "n does not occur, and _exponents lists every occurrence of n"),
    ("_by_continuity", "sign = 1", ["sign = 2"], SIGN_OF_OO),
    ("_by_continuity",
     "s = 1 if (v == sympy.oo or v.is_positive) else -1 if (v == -sympy.oo or v.is_negative) \\",
     ["s = 2 if (v == sympy.oo or v.is_positive) else -1 if (v == -sympy.oo or v.is_negative) \\",
      "s = 1 if (v == sympy.oo or v.is_positive) else -2 if (v == -sympy.oo or v.is_negative) \\"],
     SIGN_OF_OO),
    ("certify_difference", 'return True, f"sympy N(strict=True) gives {sympy.N(approx, 15)}"',
     ['return True, f"sympy N(strict=True) gives {sympy.N(approx, )}"'],
     "15 digits is the default of sympy.N"),
    ("decide_equal", "if cex is None and tried == 0 and not diff.has(Expectation):",
     ["if cex is None and tried == 0 and not diff.has(None):"],
     "the search it adds runs on a difference with expectations, where exact_value is always "
     "None: it finds nothing and leaves cex None, tried 0 and how empty, as they were"),
    ("_constants_equal", "if canonical(x - y) == 0:", ["if canonical(x - y) == 1:"],
     "decide_constant_equal starts with the same canonical check and the same method, so the two "
     "differ only at depth 4, past MAX_CONSTANT_DEPTH, for a pair of applications met by the "
     "congruence step at depth 3; the step at depth 2 meets the same pair among the subterms it "
     "traverses and settles it at depth 3, and the reason reports only the methods of the "
     "pairs unified at depth 0"),
]
