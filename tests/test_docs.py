"""The proof-language examples in the README and docs check cleanly (the docs stay true)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run
from tpcheck.kernel import Verdict

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```\n((?:#[^\n]*\n|\n)*theorem .*?)```", re.S)
EXAMPLES = [(doc.name, i, m.group(1)) for doc in DOCS
            for i, m in enumerate(BLOCK.finditer(doc.read_text()))
            if "theorem NAME" not in m.group(1)]  # the grammar's template is not an example


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("doc,index,text", EXAMPLES, ids=lambda x: str(x)[:20])
def test_documented_example_checks(doc, index, text):
    report = run(text)
    assert not report.errors, report.errors
    assert report.theorems and all(t.verdict.passes for t in report.theorems)
    assert all(t.verdict is not Verdict.UNDECIDED for t in report.theorems)
