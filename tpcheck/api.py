"""The public entry point: check proof files and get a :class:`~tpcheck.report.Report`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import tpcheck.rules  # noqa: F401  (registers the rules)
from tpcheck.errors import SourceError, TpcheckError
from tpcheck.kernel import Options, Verdict, check_theorem
from tpcheck.lang.elaborate import elaborate_theorem
from tpcheck.lang.parser import parse
from tpcheck.report import FileReport, Report
from tpcheck.version import __version__
from tpcheck.witness import DEFAULT_WITNESSES

SUFFIX = ".tp"


def proof_files(paths: Iterable[str | Path]) -> list[Path]:
    """The proof files named by ``paths`` (folders are searched for ``*.tp``)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob(f"*{SUFFIX}")))
        elif p.exists():
            out.append(p)
        else:
            raise TpcheckError(f"{p}: no such file or folder")
    return out


def check_text(text: str, path: str = "<input>", options: Options | None = None) -> FileReport:
    """Check the proof text of one file."""
    options = options or Options()
    report = FileReport(path, hashlib.sha256(text.encode()).hexdigest())
    try:
        tree = parse(text)
    except SourceError as exc:
        report.errors.append(exc.attach(path, text).render())
        return report
    lines = text.splitlines()
    seen: set[str] = set()
    for t in tree.theorems:
        if t.name in seen:
            report.errors.append(SourceError(f"theorem '{t.name}' is defined twice in this file",
                                             t.pos).attach(path, text).render())
            continue
        seen.add(t.name)
        try:
            theorem = elaborate_theorem(t, lines)
            report.theorems.append(check_theorem(theorem, options, DEFAULT_WITNESSES))
            report.trees[t.name] = t
        except SourceError as exc:
            report.errors.append(exc.attach(path, text).render())
        except RecursionError:
            report.errors.append(f"{path}:{t.pos.line}: error: theorem '{t.name}' is too deeply "
                                 "nested to check")
        except Exception as exc:  # noqa: BLE001  (an internal failure must be reported, not raised)
            report.internal_errors.append(
                f"{path}:{t.pos.line}: internal error while checking '{t.name}': "
                f"{type(exc).__name__}: {exc}"
            )
    return report


def check(
    paths: str | Path | Iterable[str | Path],
    options: Options | None = None,
    require: str | None = None,
) -> Report:
    """Check proof files or folders; the result's ``exit_code`` follows the CLI's."""
    if isinstance(paths, str | Path):
        paths = [paths]
    report = Report(__version__, require=Verdict(require.upper()) if require else None)
    for f in proof_files(paths):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            report.files.append(FileReport(str(f), "", errors=[f"{f}: error: cannot read: {exc}"]))
            continue
        report.files.append(check_text(text, str(f), options))
    return report
