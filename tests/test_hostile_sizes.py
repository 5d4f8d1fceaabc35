"""Hostile sizes: every input too large, too deep or too costly to build gets a verdict or a
clean ``file:line:col`` error that names the limit, quickly, never a traceback or an internal
error; numbers too long to print are abbreviated wherever they become text."""

from __future__ import annotations

import json
import time

import pytest

from tpcheck import Options, check_text
from tpcheck.api import MAX_FILE_BYTES
from tpcheck.kernel import Verdict
from tpcheck.lang.parser import MAX_DEPTH, MAX_STEPS, MAX_THEOREMS, parse, parse_expression
from tpcheck.lang.printer import to_source
from tpcheck.latex.expressions import to_latex
from tpcheck.report import EXIT_ERROR, EXIT_OK, EXIT_REFUTED, EXIT_UNDECIDED, Report
from tpcheck.text import expr_text, number_text, safe

#: Wall seconds any of these inputs may take (a refused input takes milliseconds; the bound
#: leaves room for a loaded machine).
QUICK = 20.0


def theorem(lhs: str, rhs: str = "x", lets: str = "let x : real\n", rule: str = "algebra") -> str:
    """A one-step theorem whose claim's left side (line 4, column 8) is ``lhs``."""
    return (f'theorem t\n "s"\n {lets} claim {lhs} = {rhs}\nproof\n {lhs}\n = {rhs} by {rule}\n'
            "qed\n")


def outcome(text: str, **options):
    """(file report, exit code, first line of the first error or None, wall seconds), after
    checking that nothing anywhere shows a traceback or an internal error."""
    start = time.monotonic()
    file_report = check_text(text, "f.tp", Options(**{"budget": 10, "witnesses": False,
                                                      **options}))
    seconds = time.monotonic() - start
    report = Report("test", [file_report])
    shown = report.to_text() + report.to_json()
    assert "Traceback" not in shown and not file_report.internal_errors, shown
    first = file_report.errors[0].splitlines()[0] if file_report.errors else None
    return file_report, report.exit_code, first, seconds


def refused(text: str, message: str, **options) -> None:
    _, code, first, seconds = outcome(text, **options)
    assert (first, code) == (message, EXIT_ERROR)
    assert seconds < QUICK


# ---- nesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pluses", [995, 3000])
def test_unary_pluses_are_read_in_a_loop(pluses):
    file_report, code, first, seconds = outcome(theorem("+" * pluses + "x"))
    assert first is None and code == EXIT_OK and seconds < QUICK
    assert file_report.theorems[0].verdict is Verdict.PROVED


@pytest.mark.parametrize("text, message", [
    (theorem("E[" * 145 + "x" + "]" * 145),
     f"f.tp:4:136: parse error: expression nested too deeply (nesting limit {MAX_DEPTH}) "
     "(found 'E')"),
    (theorem("-" * 3000 + "x"),
     f"f.tp:4:72: parse error: expression nested too deeply (nesting limit {MAX_DEPTH}) "
     "(found '-')"),
    (theorem("x" + "!" * 10_000),
     f"f.tp:4:8: parse error: expression nested too deeply (nesting limit {MAX_DEPTH})"),
    (theorem("x" + "^x" * 100),
     f"f.tp:4:136: parse error: expression nested too deeply (nesting limit {MAX_DEPTH}) "
     "(found 'x')"),
])
def test_nesting_beyond_the_limit_is_a_parse_error(text, message):
    refused(text, message)


def test_expectations_nested_to_the_limit_are_checked():
    depth = MAX_DEPTH - 1
    file_report, code, first, _ = outcome(theorem("E[" * depth + "x" + "]" * depth))
    assert first is None and code == EXIT_UNDECIDED
    assert file_report.theorems[0].steps[0].detail.startswith("algebra: lhs - rhs reduces to")


def _deeper(frames: int, fn):
    return fn() if frames == 0 else _deeper(frames - 1, fn)


@pytest.mark.parametrize("lhs", [
    "sin(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1),
    "-" * (MAX_DEPTH - 1) + "x",
    "x/(" * (MAX_DEPTH - 2) + "x" + ")" * (MAX_DEPTH - 2),
    "(x + sin(" * (MAX_DEPTH // 2 - 1) + "x" + "))" * (MAX_DEPTH // 2 - 1),
    "x^" * (MAX_DEPTH - 1) + "2",
])
def test_the_nesting_limit_leaves_room_on_the_stack(lhs):
    """Checked and printed from 300 frames down (a notebook, pytest, a plugin), at the limit."""
    file_report = _deeper(300, lambda: check_text(theorem(lhs), "f.tp",
                                                  Options(budget=10, witnesses=False)))
    assert not file_report.errors and not file_report.internal_errors
    assert file_report.theorems[0].verdict in (Verdict.PROVED, Verdict.REFUTED, Verdict.UNDECIDED)
    tree = parse(theorem(lhs)).theorems[0].claim.lhs
    assert _deeper(300, lambda: to_source(tree)) and _deeper(300, lambda: to_latex(tree))


# ---- size of expressions, derivations, files -------------------------------------------------


def test_a_sum_of_ten_thousand_terms_is_checked_and_printed():
    lhs = " + ".join(["x"] * 10_000)
    file_report, code, first, seconds = outcome(theorem(lhs, "10000x"))
    assert first is None and code == EXIT_OK and seconds < QUICK
    assert file_report.theorems[0].verdict is Verdict.PROVED
    tree = parse_expression(lhs)
    assert to_source(tree) == lhs
    assert to_latex(tree) == lhs


def test_an_expression_beyond_the_size_limit_is_refused():
    lhs = " + ".join(f"x^{i}" for i in range(1, 20_001))
    refused(theorem(lhs), "f.tp:4:8: parse error: expression too large (79999 nodes; size limit "
                          "50000)")


def test_a_derivation_beyond_the_step_limit_is_refused():
    chain = "".join(f" = x + {i} - {i} by algebra\n" for i in range(5000))
    text = f'theorem t\n "s"\n let x : real\n claim x = x\nproof\n x\n{chain}qed\n'
    refused(text, f"f.tp:{7 + MAX_STEPS}:2: parse error: a derivation has at most {MAX_STEPS} "
                  "steps (the step limit); split it into lemmas")


def test_a_file_beyond_the_theorem_limit_is_refused():
    one = 'theorem t{}\n claim 1 = 1\nproof\n 1\n = 1 by algebra\nqed\n'
    text = "".join(one.format(i) for i in range(MAX_THEOREMS + 1))
    refused(text, f"f.tp:{6 * MAX_THEOREMS + 1}:1: parse error: a file holds at most "
                  f"{MAX_THEOREMS} theorems (the theorem limit); split it into several files")


@pytest.mark.parametrize("exponent", ["9" * 5000, "0" * 5000 + "2001", "-" + "9" * 5000])
def test_a_decimal_exponent_of_5000_digits_is_a_parse_error(exponent):
    _, code, first, _ = outcome(theorem("1e" + exponent))
    assert code == EXIT_ERROR and first.startswith("f.tp:4:8: parse error: decimal exponent beyond 2000")


@pytest.mark.parametrize("exponent, value", [("0003", "1000"), ("-002", "1/100"), ("2000", "1e2000")])
def test_a_decimal_exponent_with_leading_zeros_is_its_value(exponent, value):
    _, code, first, _ = outcome(theorem("1e" + exponent, value))
    assert code == 0, first


def test_a_text_beyond_the_file_size_limit_is_refused():
    refused("#" * (MAX_FILE_BYTES + 1), f"f.tp: error: file is too large ({MAX_FILE_BYTES + 1} "
                                         f"characters; file size limit {MAX_FILE_BYTES})")


# ---- exponents, factorials, exact numbers ------------------------------------------------


@pytest.mark.parametrize("lhs, message", [
    ("sqrt(2)^(10^12)", "f.tp:4:15: error: exponent 1000000000000 is too large (exponent limit "
                        "10000)"),
    ("sqrt(3)^(10^9)", "f.tp:4:15: error: exponent 1000000000 is too large (exponent limit "
                       "10000)"),
    ("gamma(1/2)^(10^9)", "f.tp:4:18: error: exponent 1000000000 is too large (exponent limit "
                          "10000)"),
    ("x^(10^5)", "f.tp:4:9: error: exponent 100000 is too large (exponent limit 10000)"),
    ("(x^100)^200", "f.tp:4:15: error: exponent 200 (with the base's, 20000) is too large "
                    "(exponent limit 10000)"),
    ("exp(10^12 * log(2))", "f.tp:4:8: error: exp(1000000000000*log(2)) is a power with an "
                            "exponent beyond the exponent limit 10000"),
    ("gamma(10^6 + 1/2)", "f.tp:4:8: error: argument 2000001/2 is too large to evaluate exactly "
                          "(factorial limit 5000)"),
    ("binomial(10^6, 3)", "f.tp:4:8: error: argument 1000000 is too large to evaluate exactly "
                          "(factorial limit 5000)"),
    ("ff(x, 5000)", "f.tp:4:8: error: 5000 factors are too many to multiply out (expanded-factor "
                    "limit 200); keep the number of factors symbolic"),
    (" * ".join(["10^2000"] * 40), "f.tp:4:396: error: the product's exact numbers may need "
                                   "265760 bits, too many to hold exactly (limit 200000)"),
    ("sqrt(2^5000 + 1)", "f.tp:4:8: error: a root of a 5001-bit number is too costly to take "
                         "exactly (root limit 4000 bits)"),
    ("(-2)!!", "f.tp:4:12: error: cannot build this expression: ValueError: argument must be "
               "nonnegative integer or negative odd integer"),
])
def test_powers_and_factorials_beyond_the_limits_are_refused_whatever_the_base(lhs, message):
    refused(theorem(lhs), message)


def test_a_falling_factorial_within_the_limit_is_multiplied_out():
    file_report, code, _, _ = outcome(theorem("ff(x, 3)", "x*(x - 1)*(x - 2)"))
    assert code == EXIT_OK and file_report.theorems[0].verdict is Verdict.PROVED


# ---- definitions -------------------------------------------------------------------------


def _definitions(first: str, step: str, count: int = 16) -> str:
    return f" let g0(y) = {first}\n" + "".join(f" let g{i}(y) = {step.format(p=f'g{i - 1}')}\n"
                                               for i in range(1, count + 1))


def test_definitions_that_double_in_size_are_refused_by_the_size_limit():
    lets = "let x : real\n let S0 = x + 1\n" + "".join(
        f" let S{i} = (S{i - 1} + 1)*(S{i - 1} + 2)\n" for i in range(1, 17))
    refused(theorem("S16", lets=lets), "f.tp:18:21: error: expression too large after expanding "
                                       "definitions (more than 50000 nodes; size limit 50000)")


def test_composed_definitions_are_refused_by_the_size_limit_where_they_grow_too_large():
    """g_i(y) = g_(i-1)(g_(i-1)(y)) with g_0(y) = y(y + 1): the size squares at each step."""
    lets = "let x : real\n" + _definitions("y * (y + 1)", "{p}({p}(y))")
    refused(theorem("g16(x)", lets=lets), "f.tp:8:14: error: expression too large after "
                                          "expanding definitions (more than 50000 nodes; size "
                                          "limit 50000) (in the expansion of 'g3')")


def test_composed_definitions_of_constant_size_are_refused_by_the_work_limit():
    """With g_0(y) = y + 1 the size stays 3, but g_16 is 2^16 expansions of g_0."""
    lets = "let x : real\n" + _definitions("y + 1", "{p}({p}(y))")
    refused(theorem("g16(x)", lets=lets), "f.tp:19:15: error: this expression, with its "
                                          "definitions expanded, takes more than 100000 steps to "
                                          "build (work limit 100000) (in the expansion of 'g14')")


def test_definitions_nested_beyond_the_depth_limit_are_refused():
    lets = "let x : real\n" + _definitions("y + 1", "{p}(y) + 1", count=100)
    refused(theorem("g100(x)", lets=lets), "f.tp:68:15: error: expression nested too deeply "
                                           "after expanding definitions (depth limit 128) (in the "
                                           "expansion of 'g63')")


def test_a_definition_called_with_a_large_number_meets_the_size_model():
    """The body is elaborated again with the argument's value: substituting 10^2000 into the
    formal y^10000 let sympy build a 66-million-bit number unchecked."""
    lets = "let x : real\n let g(y) = y^10000\n"
    refused(theorem("g(10^2000)", lets=lets),
            "f.tp:5:8: error: <a 2001-digit integer 1000...0000>^10000 is too large to hold "
            "exactly (about 66440000 bits; limit 200000) (in the expansion of 'g')")


# ---- settings ------------------------------------------------------------------------------


def test_witness_settings_beyond_their_bounds_are_refused():
    refused(theorem("x") + "crosscheck montecarlo seed 10^100\n",
            "f.tp:9:30: error: crosscheck setting 'seed' must be in 0..9223372036854775807")


def test_a_moment_order_beyond_the_exponent_limit_is_refused():
    text = ('theorem t\n "s"\n let n : positive integer\n let X[1..n] iid with E[X^100000] = 1\n'
            ' claim X[1] = X[1]\nproof\n X[1]\n = X[1] by algebra\nqed\n')
    refused(text, "f.tp:4:27: error: a moment's order is at most the exponent limit 10000")


# ---- long numbers in text ----------------------------------------------------------------


def test_a_counterexample_beyond_4300_digits_is_shown_abbreviated(capsys, tmp_path):
    text = theorem("E[Z^(10^4)]", "1", lets="let Z ~ Normal(0, 1)\n", rule="gaussian_moment")
    file_report, code, first, seconds = outcome(text)
    assert first is None and code == EXIT_REFUTED and seconds < QUICK
    step = file_report.theorems[0].steps[0]
    assert step.counterexample == {"instance": {}, "lhs": "<a 17829-digit integer 4765...0625>",
                                   "rhs": "1"}
    report = Report("test", [file_report])
    assert '"lhs": "<a 17829-digit integer 4765...0625>"' in report.to_text()
    assert json.loads(report.to_json())["files"][0]["theorems"][0]["steps"][0][
        "counterexample"]["lhs"] == "<a 17829-digit integer 4765...0625>"
    from tpcheck.cli import main

    path = tmp_path / "big.tp"
    path.write_text(text)
    assert main(["latex", str(path), "--no-witnesses"]) == EXIT_REFUTED
    assert "17829-digit integer 4765...0625" in capsys.readouterr().out


def test_a_structure_error_about_5000_digit_numbers_is_an_error_not_an_internal_one():
    text = ('theorem t\n "s"\n claim 10^4999 = 1\nproof\n 10^4999 + 1\n = 1 by algebra\nqed\n')
    refused(text, "f.tp:6:2: proof error: the derivation starts at <a 5000-digit integer "
                  "1000...0001> but the claim's left side is <a 5000-digit integer 1000...0000>")


def test_numbers_are_abbreviated_without_pythons_conversion_limit():
    assert number_text(10**5000 + 6789) == "<a 5001-digit integer 1000...6789>"
    assert number_text(-(3**10000)) == "-<a 4772-digit integer 1631...0001>"
    assert number_text(12345) == "12345"
    assert expr_text([10**300, 7]) == "[<a 301-digit integer 1000...0000>, 7]"
    assert safe({"x": "0." + "1" * 300}) == {"x": "0.<300 digits 1111...1111>"}


# ---- printers ------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [
    "2(" * 60 + "k" + ")" * 60,
    "(" * 60 + "x" + ")!" * 60,
    "genus_sum(n, " * 30 + "k" + ")" * 30,
    "x^" * 60 + "2",
])
def test_printers_print_each_subtree_once(source):
    """Printing must take time linear in the tree: choosing brackets by printing a subtree
    twice made these exponential."""
    tree = parse_expression(source)
    start = time.process_time()  # CPU time: a loaded machine does not make it flaky
    assert to_source(tree) and to_latex(tree)
    assert time.process_time() - start < 2.0


@pytest.mark.parametrize("source", ["genus_sum(1)", "integral(x)", "integral(x, 1, 2)",
                                    "binomial(x)", "sqrt()", "moment_sum(x)"])
def test_the_latex_printer_prints_calls_of_any_arity(source):
    assert to_latex(parse_expression(source)).endswith(r"\right)")
