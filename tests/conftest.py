from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tpcheck import Options, check_text
from tpcheck.kernel import REGISTRY, rule

ROOT = Path(__file__).resolve().parent.parent

# The known-bad proofs must fail; the plugin would collect them as tests, so pytest skips them
# here and tests/test_bad_proofs.py checks each is rejected the way it says.
collect_ignore_glob = ["bad_proofs/*", "snapshots/*"]


def pytest_configure(config: pytest.Config) -> None:
    """A verdict-cache key of this test process's own (and so of each xdist worker): entries
    written by an earlier run, another worker or the developer's own checks never verify, so
    no test reads a verdict it did not compute; the developer's key is never touched."""
    if "TPCHECK_CACHE_KEY" not in os.environ:
        folder = tempfile.mkdtemp(prefix="tpcheck-test-key-")
        os.environ["TPCHECK_CACHE_KEY"] = str(Path(folder) / "key")


@pytest.fixture
def root() -> Path:
    return ROOT


def run(text: str, **options):
    """Check proof text and return the file report."""
    return check_text(text, "<test>", Options(**options))


@pytest.fixture
def fake_rule():
    """Register a throw-away rule for one test."""
    names = []

    def make(name, judgement, relations=("=",)):
        def verifier(goal, args, ctx):
            """A rule for tests only."""
            return judgement

        rule(name, relations=relations, human=name)(verifier)
        names.append(name)

    yield make
    for n in names:
        REGISTRY.pop(n, None)
