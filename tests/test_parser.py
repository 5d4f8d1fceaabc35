"""The tokenizer and parser: shapes, positions, errors, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpcheck.errors import ParseError, TpcheckError
from tpcheck.lang import ast
from tpcheck.lang.parser import MAX_DEPTH, parse, parse_expression
from tpcheck.lang.printer import shape, to_source


def test_precedence_reads_like_a_paper():
    e = parse_expression("-x^2 + 2k*y/3")
    assert isinstance(e, ast.BinOp) and e.op == "+"
    assert isinstance(e.left, ast.Neg) and e.left.operand.op == "^"
    product = e.right
    assert product.op == "/" and product.left.op == "*"
    assert product.left.left.op == "implicit"


def test_juxtaposition_binds_tighter_than_division_and_looser_than_power():
    e = parse_expression("1/2k^2")
    assert e.op == "/" and e.right.op == "implicit" and e.right.right.op == "^"


def test_power_is_right_associative_and_takes_a_signed_exponent():
    e = parse_expression("a^b^-c")
    assert e.op == "^" and e.right.op == "^" and isinstance(e.right.right, ast.Neg)


def test_postfix_factorials():
    e = parse_expression("(2k - 1)!! + n!")
    assert e.left.op == "!!" and e.right.op == "!"


def test_expectation_index_call_and_binding():
    e = parse_expression("E[X[i]^2] + sum(f(j), j = 1..n)")
    assert isinstance(e.left, ast.Expect)
    call = e.right
    assert call.func == "sum" and isinstance(call.args[1], ast.Binding)


def test_positions_are_line_and_column():
    text = 'theorem t\n  "s"\n  let x : real\n  claim x = x\nproof\n  x\n    = x   by algebra\nqed\n'
    thm = parse(text).theorems[0]
    link = thm.chain.links[0]
    assert (link.pos.line, link.pos.col) == (7, 5)
    assert (link.rule.pos.line, link.rule.pos.col) == (7, 14)


def test_error_has_position_and_caret():
    with pytest.raises(ParseError) as info:
        parse("theorem t\n  claim x = = y\nproof\n x = x by algebra\nqed\n")
    err = info.value
    assert (err.pos.line, err.pos.col) == (2, 13)
    rendered = err.attach("f.tp", "theorem t\n  claim x = = y\n").render()
    assert rendered.startswith("f.tp:2:13: parse error:")
    assert rendered.splitlines()[-1] == "  " + " " * 12 + "^"


def test_missing_justification_is_an_error():
    with pytest.raises(ParseError, match="justification"):
        parse("theorem t\n claim x = y\nproof\n x\n = y\nqed\n")


def test_nesting_limit_gives_a_clear_error():
    deep = "(" * 10_000 + "1" + ")" * 10_000
    with pytest.raises(ParseError, match="nested"):
        parse_expression(deep)
    ok = "(" * (MAX_DEPTH // 3) + "1" + ")" * (MAX_DEPTH // 3)
    assert isinstance(parse_expression(ok), ast.Num)


def test_double_underscore_names_are_refused():
    with pytest.raises(ParseError, match="double underscores"):
        parse_expression("__import__")


def test_attribute_access_is_not_a_token():
    with pytest.raises(ParseError):
        parse_expression("os.system")


# ---- round trips ------------------------------------------------------------------------

names = st.sampled_from(["x", "y", "k", "n", "s2"])
leaves = st.one_of(
    st.integers(0, 10**6).map(str),
    st.tuples(st.integers(0, 99), st.integers(0, 99)).map(lambda p: f"{p[0]}.{p[1]:02d}"),
    names,
)


def _expr_text(depth: int):
    if depth == 0:
        return leaves
    sub = _expr_text(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "^"]), sub).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
        sub.map(lambda a: f"-({a})"),
        sub.map(lambda a: f"({a})!"),
        sub.map(lambda a: f"E[{a}]"),
        st.tuples(sub, sub).map(lambda t: f"binomial({t[0]}, {t[1]})"),
        st.tuples(st.integers(1, 9), names).map(lambda t: f"{t[0]}{t[1]}"),
        sub.map(lambda a: f"sum({a}, j = 1..n)"),
    )


@given(_expr_text(3))
@settings(max_examples=300, deadline=None)
def test_print_then_parse_gives_the_same_tree(text):
    tree = parse_expression(text)
    again = parse_expression(to_source(tree))
    assert shape(again) == shape(tree)


# ---- garbage never escapes as anything but our own error ------------------------------------

ALPHABET = "abckxnZE0123456789 ()[]{}+-*/^!=<>~:,.|#\"\n_" + "theorem proof qed let claim by "


@given(st.text(alphabet=ALPHABET, max_size=200))
@settings(max_examples=500, deadline=None)
def test_garbage_raises_only_parse_errors(text):
    try:
        parse(text)
    except TpcheckError:
        pass


VALID = (
    'theorem t\n  "s"\n  let s : positive real\n  let Z ~ Normal(0, s^2)\n'
    "  claim E[Z^4] = 3s^4\nproof\n  E[Z^4]\n    = 3s^4   by gaussian_moment\nqed\n"
)


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_near_valid_text_raises_only_our_errors(data):
    i = data.draw(st.integers(0, len(VALID)))
    j = data.draw(st.integers(i, min(len(VALID), i + 6)))
    insert = data.draw(st.text(alphabet=ALPHABET, max_size=4))
    text = VALID[:i] + insert + VALID[j:]
    from tests.conftest import run

    report = run(text, budget=None, witnesses=False)
    assert not report.internal_errors
