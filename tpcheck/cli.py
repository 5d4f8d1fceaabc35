"""The ``tpcheck`` command line.

Exit codes: 0 nothing REFUTED or UNDECIDED; 1 something REFUTED; 2 a parse, proof-structure
or usage error; 3 only UNDECIDED (or below ``--require``) failures; 4 an internal
disagreement between an exact judgement and a witness, or Coq (``--coq``). Where several
apply, the first in the order 4, 1, 2, 3 wins.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TextIO

from tpcheck import simulate
from tpcheck.api import check, default_jobs, run_settings
from tpcheck.book import add_book_parser, book_command
from tpcheck.cache import CACHE_DIR, VerdictCache, clear_cache
from tpcheck.errors import TpcheckError, printable
from tpcheck.kernel import DEFAULT_BUDGET, DEFAULT_WITNESS_BUDGET, REGISTRY, Options
from tpcheck.kernel.check import DEFAULT_RUN_BUDGET
from tpcheck.report import EXIT_DISAGREEMENT, EXIT_ERROR, Report
from tpcheck.sweeps import add_sweep_arguments
from tpcheck.version import __version__

MAX_SECONDS = 86_400.0  # a day: a longer budget is a typo, and 0 or inf would mean no bound
MAX_MC_SCALE = 1000.0  # the Monte-Carlo witness caps its samples anyway
MAX_JOBS = 1024  # more processes than any machine's CPUs only share them
_INTEGER = re.compile(r"[0-9]+")  # ASCII only: int() also reads "١٢" and "1_000"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (no usage block) and nothing a terminal acts on."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, printable(f"{self.prog}: error: {message} (see {self.prog} --help)")
                  + "\n")


def _seconds(text: str) -> float:
    """A CPU-time budget: more than 0 and at most MAX_SECONDS (not inf, not nan)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= MAX_SECONDS:  # false for nan too
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_SECONDS:g} seconds, got {text!r}")
    return value


def _mc_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= MAX_MC_SCALE:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_MC_SCALE:g}, "
                                         f"got {text!r}")
    return value


def _integer(text: str, lo: int, hi: int, what: str) -> int:
    digits = text.removeprefix("-")
    if not (_INTEGER.fullmatch(digits) and len(digits) <= 30 and lo <= int(text) <= hi):
        raise argparse.ArgumentTypeError(f"{what} must be an integer in {lo}..{hi}, got {text!r}")
    return int(text)


def _jobs(text: str) -> int:
    return _integer(text, 1, MAX_JOBS, "the number of processes")


def _sizes(text: str) -> list[int]:
    parts = text.split(",")
    if len(parts) > simulate.MAX_SIZES:
        raise argparse.ArgumentTypeError(f"at most {simulate.MAX_SIZES} sizes, got {len(parts)}")
    return [_integer(part.strip(), 1, simulate.MAX_SIZE, "each size n") for part in parts]


def _samples(text: str) -> int:
    return _integer(text, simulate.MIN_SAMPLES, simulate.MAX_SAMPLES, "the number of samples")


def _seed(text: str) -> int:
    return _integer(text, 0, simulate.MAX_SEED, "the seed")


def _fixed(text: str) -> tuple[str, int]:
    name, eq, value = text.partition("=")
    name = name.strip()
    if not eq or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise argparse.ArgumentTypeError(f"expected NAME=INTEGER, e.g. k=2, got {text!r}")
    return name, _integer(value.strip(), -simulate.MAX_FIXED, simulate.MAX_FIXED,
                          f"the value of {name}")


def _output_file(text: str) -> str:
    """A file to write: not a folder, in a folder that exists ('-' is standard output)."""
    if text == "-":
        return text
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {path.parent}")
    return text


def _output_folder(text: str) -> str:
    """A folder to write into: not an existing file."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return text


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="tpcheck",
        description="Check derivations of large-N limits, step by step, with graded verdicts.",
    )
    p.add_argument("--version", action="version", version=f"tpcheck {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser(
        "check", help="check proof files or folders",
        description="Check every theorem in the given proof files (folders: every *.tp file).",
        epilog=textwrap.dedent(__doc__.split("\n\n", 1)[1]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--json", metavar="FILE", type=_output_file,
                   help="write the JSON report to FILE ('-': stdout)")
    c.add_argument("--require", choices=["proved", "verified", "partial", "corroborated"],
                   help="fail (exit 3) when a theorem's verdict is weaker than this")
    c.add_argument("--budget", type=_seconds, default=DEFAULT_BUDGET, metavar="SECONDS",
                   help=f"CPU-time budget of one rule verifier, up to {MAX_SECONDS:g} s "
                        f"(default {DEFAULT_BUDGET:g} s)")
    c.add_argument("--witness-budget", type=_seconds, default=DEFAULT_WITNESS_BUDGET,
                   metavar="SECONDS",
                   help=f"CPU-time budget of one witness, up to {MAX_SECONDS:g} s "
                        f"(default {DEFAULT_WITNESS_BUDGET:g} s)")
    _run_budget_argument(c)
    c.add_argument("--no-witnesses", action="store_true",
                   help="skip the mpmath and Monte-Carlo witnesses")
    c.add_argument("--mc-scale", type=_mc_scale, default=1.0, metavar="F",
                   help=f"multiply every Monte-Carlo sample size by F (at most {MAX_MC_SCALE:g})")
    c.add_argument("--coq", action="store_true",
                   help="re-prove the algebraic and finite combinatorial steps with coqc: a step "
                        "re-proved is 'PROVED + coq'; one Coq refuses is DISPUTED (exit 4)")
    c.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    c.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                   help="check theorems in N processes at once (default: the number of CPUs; "
                        "-j 1 checks them one after another); the report is the same")
    c.add_argument("--no-cache", action="store_true",
                   help=f"neither read nor write the verdict cache ({CACHE_DIR}/ in the current "
                        "folder, whose entries are signed with a key outside it)")
    c.add_argument("--clear-cache", action="store_true",
                   help=f"remove {CACHE_DIR}/ before checking (as 'rm -r {CACHE_DIR}' does)")
    cq = sub.add_parser(
        "coq", help="export steps as Coq lemmas and re-prove them with coqc",
        description="Write one .v file per theorem into DIR (one lemma per exportable step, its "
                    "side conditions as hypotheses, with the prelude tp_prelude.v and a "
                    "_CoqProject), list the steps not exported with the reason, run coqc on "
                    "the lemmas and print the share of algebraic and finite combinatorial steps "
                    "Coq re-proved. Exit 0; 1 when Coq refuses a lemma it decides; 2 on a "
                    "reading error.")
    cq.add_argument("paths", nargs="+", metavar="FILE")
    cq.add_argument("-o", "--output", metavar="DIR", required=True, type=_output_folder,
                    help="the folder to write the .v files to (created if missing)")
    cq.add_argument("--no-check", action="store_true",
                    help="only write the files; do not run coqc")
    sub.add_parser("rules", help="list the rules with their documentation")
    tr = sub.add_parser(
        "trust", help="what each theorem's verdict rests on",
        description="Check the files (without witnesses) and print, per theorem, the rules and "
                    "the algorithms its passing steps trusted, then the trusted base they use.")
    tr.add_argument("paths", nargs="+", metavar="PATH")
    tr.add_argument("--json", action="store_true", help="print JSON instead of text")
    _run_budget_argument(tr)
    tex = sub.add_parser(
        "latex", help="write checked proofs as LaTeX (and PDF)",
        description="Check the files and write a LaTeX document of their theorems: each step with "
                    "its justification and verdict, failures shown, an evidence appendix.")
    tex.add_argument("paths", nargs="+", metavar="FILE")
    tex.add_argument("-o", "--output", metavar="OUT", type=_output_file,
                     help="OUT.tex (default: standard output), or the PDF's name with --pdf")
    tex.add_argument("--pdf", action="store_true",
                     help="compile to PDF with pdflatex and bibtex, in a fresh folder where TeX "
                          "reads only what tpcheck wrote")
    tex.add_argument("--body-only", action="store_true",
                     help="only the theorem bodies, for \\input into a paper")
    tex.add_argument("--no-witnesses", action="store_true",
                     help="skip the mpmath and Monte-Carlo witnesses (faster; the appendix says less)")
    tex.add_argument("--coq", action="store_true",
                     help="re-prove the algebraic and finite combinatorial steps with coqc, as "
                          "check --coq does; the verdicts and the appendix say so")
    _run_budget_argument(tex)
    sim = sub.add_parser(
        "simulate", help="run a theorem's Monte-Carlo witness over a sweep of n",
        description="Simulate the left side of a theorem's claim at several sizes n: estimate, "
                    "standard error, z against the exact finite-n value, and the log-log slope "
                    "of the error against n beside the predicted one.")
    sim.add_argument("path", metavar="FILE")
    sim.add_argument("--theorem", help="the theorem (needed when the file has several)")
    sim.add_argument("--sizes", type=_sizes, default="8,16,32,64,128,256",
                     help=f"comma-separated sizes n, each at most {simulate.MAX_SIZE}, "
                          f"at most {simulate.MAX_SIZES} of them")
    sim.add_argument("--samples", type=_samples, default=2000,
                     help=f"Monte-Carlo samples per size ({simulate.MIN_SAMPLES}.."
                          f"{simulate.MAX_SAMPLES})")
    sim.add_argument("--seed", type=_seed, default=0)
    sim.add_argument("--at", action="append", type=_fixed, metavar="NAME=VALUE",
                     help=f"fix another parameter (repeatable, |VALUE| <= {simulate.MAX_FIXED}), "
                          "e.g. --at k=2")
    sim.add_argument("--plot", metavar="FILE.png", type=_output_file,
                     help="draw the spectrum and the error against n")
    add_sweep_arguments(sim)
    add_book_parser(sub)
    return p


def _run_budget_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run-budget", type=_seconds, default=DEFAULT_RUN_BUDGET, metavar="SECONDS",
                   help=f"CPU-time budget of the whole run, up to {MAX_SECONDS:g} s; what is not "
                        f"started when it is spent is UNDECIDED (default {DEFAULT_RUN_BUDGET:g} s)")


def _options(args: argparse.Namespace, **fields: Any) -> Options:
    return Options(run_budget=args.run_budget, **fields)


def _rules_text() -> str:
    import tpcheck.rules  # noqa: F401  (registers the rules)

    out = []
    for name in sorted(REGISTRY):
        r = REGISTRY[name]
        rel = ", ".join(sorted(r.relations))
        out.append(f"{name}  [{rel}]  ({r.human})")
        out.extend("    " + line if line else "" for line in r.doc.splitlines())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _trust(args: argparse.Namespace) -> int:
    import json

    from tpcheck.report import trust_text

    report = check(args.paths, _options(args, witnesses=False))
    if args.json:
        data = {f.path: {t.name: {"verdict": t.verdict.value, **t.rests_on} for t in f.theorems}
                for f in report.files}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(trust_text(report))
    return report.exit_code


def _latex(args: argparse.Namespace) -> int:
    import tempfile

    from tpcheck.latex_build import build_latex, compile_pdf, drawn_figures

    if args.pdf and args.body_only:
        raise TpcheckError("--pdf needs the whole document, not --body-only")
    with tempfile.TemporaryDirectory(prefix="tpcheck-figures-") as scratch:
        # figures go beside OUT.tex, or into a scratch folder the PDF build copies them from
        folder = (Path(scratch) if args.pdf else
                  Path(args.output).resolve().parent if args.output else None)
        tex, report, bibs = build_latex(args.paths, _options(args, witnesses=not args.no_witnesses),
                                        body_only=args.body_only,
                                        after_check=_coq_recheck(sys.stderr) if args.coq else None,
                                        figure_folder=folder)
        if args.pdf:
            out = Path(args.output or "tpcheck-proofs.pdf").with_suffix(".pdf")
            compile_pdf(tex, bibs, out, drawn_figures(Path(scratch)))
            print(printable(f"wrote {out}"), file=sys.stderr)
        elif args.output:
            Path(args.output).write_text(tex, encoding="utf-8")
        else:
            sys.stdout.write(tex)
    return report.exit_code


def _check(args: argparse.Namespace) -> int:
    options = _options(args, budget=args.budget, witness_budget=args.witness_budget,
                       witnesses=not args.no_witnesses, montecarlo_scale=args.mc_scale)
    if args.clear_cache:
        clear_cache()
    cache = None if args.no_cache else VerdictCache()
    jobs = args.jobs if args.jobs is not None else default_jobs()
    with run_settings(jobs=jobs, cache=cache):
        report = check(args.paths, options, require=args.require)
    if args.coq:
        _coq_recheck(sys.stderr if args.json == "-" else sys.stdout)(report)
    if args.json == "-":
        sys.stdout.write(report.to_json() + "\n")
        return report.exit_code
    if args.json:
        Path(args.json).write_text(report.to_json() + "\n", encoding="utf-8")
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    print(report.to_text(colour=colour))
    return report.exit_code


def _coq_recheck(out: TextIO) -> Callable[[Report], None]:
    """Re-check a report with Coq (``--coq``), saying what came of it on ``out``."""
    from tpcheck.coq import recheck

    return lambda report: recheck(report, out)


def _coq(args: argparse.Namespace) -> int:
    from tpcheck.coq import coq_command

    return coq_command(args.paths, args.output, check=not args.no_check)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"check": _check, "latex": _latex, "trust": _trust, "coq": _coq,
                "simulate": simulate.main_simulate, "book": book_command}
    try:
        if args.command == "rules":
            sys.stdout.write(_rules_text())
            return 0
        return commands[args.command](args)
    except (TpcheckError, OSError) as exc:
        print(printable(f"tpcheck: {_message(exc)}", keep_newlines=True), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tpcheck: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  (no traceback reaches a user unless asked for)
        if os.environ.get("TPCHECK_DEBUG"):
            traceback.print_exc()
        print(printable(f"tpcheck: internal error: {type(exc).__name__}: {exc} "
                        "(TPCHECK_DEBUG=1 shows the traceback)"), file=sys.stderr)
        return EXIT_DISAGREEMENT


def _message(exc: Exception) -> str:
    """An OSError as 'FILE: reason' rather than '[Errno 21] Is a directory: FILE'."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
