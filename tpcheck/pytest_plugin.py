"""pytest plugin: every theorem of every ``*.tp`` file collected by pytest is a test item.

Registered through the ``pytest11`` entry point, so ``pytest proofs/`` checks the library. A
failing theorem shows its failing steps as ``tpcheck check`` does (file:line, rule, reason,
counterexample, witnesses). Options: ``--tpcheck-require`` (the weakest verdict that passes;
default corroborated), ``--tpcheck-mc-scale`` (multiplies every Monte-Carlo sample size),
``--tpcheck-budget`` (CPU seconds per rule), ``--tpcheck-no-witnesses``. Theorems whose Monte-Carlo
settings ask for many samples carry the ``tpcheck_slow`` marker (deselect with
``-m "not tpcheck_slow"``).
"""

from __future__ import annotations

from typing import Any

import pytest

SLOW_SAMPLES = 200_000


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("tpcheck")
    group.addoption("--tpcheck-require", default="corroborated",
                    choices=["proved", "verified", "partial", "corroborated"],
                    help="weakest theorem verdict that passes (default: corroborated)")
    group.addoption("--tpcheck-mc-scale", type=float, default=1.0,
                    help="multiply every Monte-Carlo sample size by this factor")
    group.addoption("--tpcheck-budget", type=float, default=60.0,
                    help="CPU-time budget of one rule verifier, in seconds (default 60)")
    group.addoption("--tpcheck-no-witnesses", action="store_true",
                    help="skip the mpmath and Monte-Carlo witnesses")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "tpcheck_slow: a theorem with large Monte-Carlo witnesses")


def pytest_collect_file(parent: Any, file_path: Any) -> Any:
    if file_path.suffix == ".tp":
        return ProofFile.from_parent(parent, path=file_path)
    return None


def _samples(node: Any) -> int:
    """A ``samples`` setting written as a plain integer literal, else 0."""
    text = getattr(node, "text", "")
    return int(text) if text.isdigit() and len(text) < 20 else 0


class ProofFile(pytest.File):
    def collect(self) -> Any:
        from tpcheck.api import parse_text, read_proof_file
        from tpcheck.errors import TpcheckError

        try:
            self.text = read_proof_file(self.path)
        except TpcheckError as exc:
            yield TheoremItem.from_parent(self, name="<read>", theorem=None, error=str(exc))
            return
        self.parsed = parse_text(self.text, str(self.path))  # parsed once, for every theorem
        if self.parsed.tree is None:
            yield TheoremItem.from_parent(self, name="<parse>", theorem=None, error="\n".join(
                self.parsed.errors + self.parsed.internal_errors))
            return
        tree = self.parsed.tree
        for t in tree.theorems:
            item = TheoremItem.from_parent(self, name=t.name, theorem=t.name, error=None)
            samples = [_samples(s) for c in t.crosschecks if c.kind == "montecarlo"
                       for key, s in c.settings if key == "samples"]
            if samples and max(samples) >= SLOW_SAMPLES:
                item.add_marker(pytest.mark.tpcheck_slow)
            yield item


class TheoremFailure(Exception):
    pass


class TheoremItem(pytest.Item):
    def __init__(self, *, theorem: str | None, error: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.theorem = theorem
        self.error = error

    def runtest(self) -> None:
        if self.error is not None:
            raise TheoremFailure(self.error)
        from tpcheck.api import check_text
        from tpcheck.display import verdict_phrase
        from tpcheck.kernel import Options, Verdict
        from tpcheck.report import step_text

        cfg = self.config
        options = Options(budget=cfg.getoption("--tpcheck-budget"),
                          witnesses=not cfg.getoption("--tpcheck-no-witnesses"),
                          montecarlo_scale=cfg.getoption("--tpcheck-mc-scale"))
        file = self.parent
        report = check_text(file.text, str(self.path), options, only=self.theorem, parsed=file.parsed)
        if report.errors or report.internal_errors:
            raise TheoremFailure("\n".join(report.errors + report.internal_errors))
        (result,) = [t for t in report.theorems if t.name == self.theorem]
        required = Verdict(cfg.getoption("--tpcheck-require").upper())
        lines = []
        for s in result.steps:
            if s.disagreement or not s.verdict.passes or s.verdict.strength < required.strength:
                lines.extend(step_text(str(self.path), s))
        if result.disagreements or not result.verdict.passes or \
                result.verdict.strength < required.strength:
            head = f"{self.theorem}: {verdict_phrase(result)} (required: {required.value})"
            if result.note:
                head += f"\n{result.note}"
            raise TheoremFailure("\n".join([head, *lines]))

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, TheoremFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, 0, f"theorem {self.theorem}"
