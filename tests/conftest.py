from __future__ import annotations

from pathlib import Path

import pytest

from tpcheck import Options, check_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


def run(text: str, **options):
    """Check proof text and return the file report."""
    return check_text(text, "<test>", Options(**options))
