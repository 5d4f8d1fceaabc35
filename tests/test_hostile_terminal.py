"""Hostile text never reaches a terminal raw: control characters in comments, statements, file
names and error messages are escaped by every command, and only ASCII digits are numbers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tpcheck.cli import main
from tpcheck.errors import ParseError, Position, printable
from tpcheck.lang.lexer import tokenize

TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title
CLEAR = "\x1b[2J"  # clears the screen
RLO = "\u202e"  # right-to-left override (Trojan Source)
RAW = ("\x1b", "\x07", "\u202e", "\x9b")

GOOD = 'theorem t\n  "{statement}"\n  let x : real\n  claim x = x\nproof\n  x\n    = x by algebra\nqed\n'
REFUTED = GOOD.replace("claim x = x", "claim x = x + 1").replace("= x by", "= x + 1 by")


def assert_escaped(text: str) -> None:
    assert not any(ch in text for ch in RAW), repr(text)


def test_printable_escapes_controls_bidi_and_separators_only():
    assert printable(f"a{TITLE}b{CLEAR}") == r"a\x1b]0;pwned\x07b\x1b[2J"
    assert printable(f"x{RLO}y\u2028z\x9b\x00\r\t") == r"x\u202ey\u2028z\x9b\x00\x0d\x09"
    assert printable("line 1\nline 2") == r"line 1\x0aline 2"
    assert printable("line 1\nline 2", keep_newlines=True) == "line 1\nline 2"
    assert printable("π ≤ 2σ², café") == "π ≤ 2σ², café"


def test_caret_stays_under_the_column_after_escaped_characters():
    line = f'theorem t "{CLEAR}{RLO}" )'
    err = ParseError("expected 'let'", Position(1, line.index(")") + 1)).attach("f.tp", line + "\n")
    rendered = err.render().split("\n")
    assert rendered == [
        f"f.tp:1:{line.index(')') + 1}: parse error: expected 'let'",
        r'  theorem t "\x1b[2J\u202e" )',
        "  " + " " * len(r'theorem t "\x1b[2J\u202e" ') + "^",
    ]


def test_error_line_is_counted_as_the_tokenizer_counts_lines():
    text = "a\x0cb\x1cc\n)\n"  # form feed and file separator do not end a line for the tokenizer
    err = ParseError("unexpected", Position(2, 1)).attach("f.tp", text)
    assert err.render().split("\n")[1] == "  )"


def test_parse_error_line_with_terminal_escapes_in_a_comment(tmp_path, capsys):
    p = tmp_path / "esc.tp"
    p.write_text(f"theorem t\n  \"s\"\n  let x : real\n  claim x = x\n  ) # {TITLE} {CLEAR}\n"
                 "proof\n  x\n    = x by algebra\nqed\n")
    assert main(["check", str(p)]) == 2
    out = capsys.readouterr().out
    assert_escaped(out)
    assert out.split("\n")[1:4] == [
        f"  {p}:5:3: parse error: expected 'let', 'for', 'assume', 'cite', 'claim', 'crosscheck' "
        "or 'proof' (found ')')",
        r"      ) # \x1b]0;pwned\x07 \x1b[2J",
        "      ^",
    ]


def test_a_string_token_in_an_error_message_is_escaped(tmp_path, capsys):
    p = tmp_path / "s.tp"
    p.write_text(f'theorem t\n  "s"\n  let x : real\n  claim "{TITLE}" = x\nproof\nqed\n')
    assert main(["check", str(p)]) == 2
    out = capsys.readouterr().out
    assert_escaped(out)
    assert r"parse error: expected an expression (found '\x1b]0;pwned\x07')" in out


def test_file_name_with_escapes_in_check_trust_and_latex(tmp_path, capsys):
    p = tmp_path / f"e{CLEAR}vil{RLO}.tp"
    p.write_text(REFUTED.format(statement="s"))
    shown = printable(str(p))
    assert main(["check", "--no-witnesses", str(p)]) == 1
    out = capsys.readouterr().out
    assert_escaped(out)
    assert out.split("\n")[0] == shown and f"    {shown}:7: REFUTED by algebra" in out
    assert main(["trust", str(p)]) == 1
    out = capsys.readouterr().out
    assert_escaped(out)
    assert out.split("\n")[0] == shown
    assert main(["latex", "--no-witnesses", str(p)]) == 1
    tex = capsys.readouterr().out
    assert_escaped(tex)
    assert r"\section{\texttt{" in tex and "e?[2Jvil?.tp" in tex


def test_statement_with_escapes_in_latex_output(tmp_path, capsys):
    p = tmp_path / "s.tp"
    p.write_text(GOOD.format(statement=f"{TITLE}{CLEAR}{RLO} \\input{{/etc/passwd}}"))
    assert main(["latex", "--no-witnesses", str(p)]) == 0
    tex = capsys.readouterr().out
    assert_escaped(tex)
    assert r"?]0;pwned??[2J? \textbackslash{}input\{/etc/passwd\}" in tex


def test_simulate_renders_a_hostile_parse_error_escaped(tmp_path, capsys):
    p = tmp_path / f"sim{CLEAR}.tp"
    p.write_text(f'theorem t\n  "s"\n  let n : positive integer\n  claim "{CLEAR}" = n\nproof\nqed\n')
    assert main(["simulate", str(p)]) == 2
    err = capsys.readouterr().err
    assert_escaped(err)
    assert err.split("\n") == [
        rf"tpcheck: {printable(str(p))}:4:9: parse error: expected an expression (found '\x1b[2J')",
        r'    claim "\x1b[2J" = n',
        "          ^",
        "",
    ]


@pytest.mark.parametrize("digit", ["１", "٣", "१", "²", "𝟙"])
def test_only_ascii_digits_are_numbers(digit):
    with pytest.raises(ParseError) as info:
        tokenize(f"claim x + {digit} = 1")
    assert (info.value.pos.line, info.value.pos.col) == (1, 11)
    assert info.value.message.startswith(f"unexpected character '{digit}' (U+{ord(digit):04X} ")
    assert info.value.message.endswith("; numbers are written with the ASCII digits 0-9)")


def test_ascii_digits_still_make_numbers():
    kinds = [(t.kind, t.text) for t in tokenize("3 2.5 1e-19 0..12")]
    assert kinds == [("num", "3"), ("num", "2.5"), ("num", "1e-19"), ("num", "0"), ("sym", ".."),
                     ("num", "12"), ("eof", "")]


@pytest.mark.parametrize("digit", ["²", "１"])
def test_a_non_ascii_digit_is_a_parse_error_not_an_internal_error(tmp_path, capsys, digit):
    p = tmp_path / "sup.tp"
    p.write_text(GOOD.format(statement="s").replace("claim x = x", f"claim x + {digit} = x"))
    assert main(["check", str(p)]) == 2
    out = capsys.readouterr().out
    name = {"²": "SUPERSCRIPT TWO", "１": "FULLWIDTH DIGIT ONE"}[digit]
    assert out.split("\n")[1:4] == [
        f"  {p}:4:13: parse error: unexpected character '{digit}' (U+{ord(digit):04X} {name}; "
        "numbers are written with the ASCII digits 0-9)",
        f"      claim x + {digit} = x",
        "                ^",
    ]
    assert "internal error" not in out


def test_a_control_character_in_code_is_named_escaped(tmp_path):
    with pytest.raises(ParseError) as info:
        tokenize("claim x = \x1b[2J")
    assert info.value.message == r"unexpected character '\x1b' (U+001B)"


def test_console_output_has_no_raw_escape_through_a_real_terminal_pipe(tmp_path):
    p = tmp_path / f"t{TITLE}.tp"
    p.write_text(REFUTED.format(statement=f"{TITLE}{CLEAR}") + f"# {TITLE}\n")
    out = subprocess.run([sys.executable, "-m", "tpcheck.cli", "check", "--no-witnesses", str(p)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert_escaped(out.stdout + out.stderr)
    assert "Traceback" not in out.stderr
