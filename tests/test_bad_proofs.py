"""Every file in tests/bad_proofs/ is rejected the way its first line says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tpcheck import check
from tpcheck.report import EXIT_ERROR, EXIT_REFUTED, EXIT_UNDECIDED

BAD = sorted((Path(__file__).parent / "bad_proofs").glob("*.tp"))
EXIT = {"REFUTED": EXIT_REFUTED, "UNDECIDED": EXIT_UNDECIDED, "error": EXIT_ERROR}


def expectation(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' line"
    return first.removeprefix("# expect: ").strip()


def test_the_folder_is_not_empty():
    assert len(BAD) >= 10


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_proof_is_rejected(path):
    expected = expectation(path)
    report = check(path)
    assert report.exit_code == EXIT[expected]
    if expected == "error":
        assert report.files[0].errors and not report.theorems
    else:
        assert [t.verdict.value for t in report.theorems] == [expected]
        assert not report.summary()["disagreements"]


@pytest.mark.slow
def test_the_whole_folder_fails(root):
    report = check(root / "tests" / "bad_proofs")
    assert report.exit_code != 0
    assert report.summary()["PROVED"] == 0
