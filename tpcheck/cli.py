"""The ``tpcheck`` command line.

Exit codes: 0 nothing REFUTED or UNDECIDED; 1 something REFUTED; 2 a parse, proof-structure
or usage error; 3 only UNDECIDED (or below ``--require``) failures; 4 an internal
disagreement between an exact judgement and a witness. Where several apply, the first in the
order 4, 1, 2, 3 wins.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from tpcheck.api import check
from tpcheck.errors import TpcheckError
from tpcheck.kernel import DEFAULT_BUDGET, DEFAULT_WITNESS_BUDGET, REGISTRY, Options
from tpcheck.version import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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
    c.add_argument("--json", metavar="FILE", help="write the JSON report to FILE ('-': stdout)")
    c.add_argument("--require", choices=["proved", "verified", "partial", "corroborated"],
                   help="fail (exit 3) when a theorem's verdict is weaker than this")
    c.add_argument("--budget", type=float, default=DEFAULT_BUDGET, metavar="SECONDS",
                   help=f"CPU-time budget of one rule verifier (default {DEFAULT_BUDGET:g} s)")
    c.add_argument("--witness-budget", type=float, default=DEFAULT_WITNESS_BUDGET,
                   metavar="SECONDS",
                   help=f"CPU-time budget of one witness (default {DEFAULT_WITNESS_BUDGET:g} s)")
    c.add_argument("--no-witnesses", action="store_true",
                   help="skip the mpmath and Monte-Carlo witnesses")
    c.add_argument("--mc-scale", type=float, default=1.0, metavar="F",
                   help="multiply every Monte-Carlo sample size by F")
    c.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    sub.add_parser("rules", help="list the rules with their documentation")
    tr = sub.add_parser(
        "trust", help="what each theorem's verdict rests on",
        description="Check the files (without witnesses) and print, per theorem, the rules and "
                    "the algorithms its passing steps trusted, then the trusted base they use.")
    tr.add_argument("paths", nargs="+", metavar="PATH")
    tr.add_argument("--json", action="store_true", help="print JSON instead of text")
    tex = sub.add_parser(
        "latex", help="write checked proofs as LaTeX (and PDF)",
        description="Check the files and write a LaTeX document of their theorems: each step with "
                    "its justification and verdict, failures shown, an evidence appendix.")
    tex.add_argument("paths", nargs="+", metavar="FILE")
    tex.add_argument("-o", "--output", metavar="OUT", help="OUT.tex (default: standard output), "
                     "or the PDF's name with --pdf")
    tex.add_argument("--pdf", action="store_true", help="compile to PDF with latexmk/pdflatex")
    tex.add_argument("--body-only", action="store_true",
                     help="only the theorem bodies, for \\input into a paper")
    tex.add_argument("--no-witnesses", action="store_true",
                     help="skip the mpmath and Monte-Carlo witnesses (faster; the appendix says less)")
    sim = sub.add_parser(
        "simulate", help="run a theorem's Monte-Carlo witness over a sweep of n",
        description="Simulate the left side of a theorem's claim at several sizes n: estimate, "
                    "standard error, z against the exact finite-n value, and the log-log slope "
                    "of the error against n beside the predicted one.")
    sim.add_argument("path", metavar="FILE")
    sim.add_argument("--theorem", help="the theorem (needed when the file has several)")
    sim.add_argument("--sizes", default="8,16,32,64,128,256", help="comma-separated sizes n")
    sim.add_argument("--samples", type=int, default=2000, help="Monte-Carlo samples per size")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--at", action="append", metavar="NAME=VALUE",
                     help="fix another parameter (repeatable), e.g. --at k=2")
    sim.add_argument("--plot", metavar="FILE.png", help="draw the spectrum and the error against n")
    return p


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

    try:
        report = check(args.paths, Options(witnesses=False))
    except TpcheckError as exc:
        print(f"tpcheck: {exc}", file=sys.stderr)
        return 2
    if args.json:
        data = {f.path: {t.name: {"verdict": t.verdict.value, **t.rests_on} for t in f.theorems}
                for f in report.files}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(trust_text(report))
    return report.exit_code


def _latex(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tpcheck.latex.build import build_latex, compile_pdf

    try:
        tex, report, bibs = build_latex(args.paths, Options(witnesses=not args.no_witnesses),
                                        body_only=args.body_only)
        if args.pdf:
            if args.body_only:
                raise TpcheckError("--pdf needs the whole document, not --body-only")
            out = Path(args.output or "tpcheck-proofs.pdf").with_suffix(".pdf")
            compile_pdf(tex, bibs, out)
            print(f"wrote {out}", file=sys.stderr)
        elif args.output:
            Path(args.output).write_text(tex, encoding="utf-8")
        else:
            sys.stdout.write(tex)
    except (TpcheckError, OSError) as exc:
        print(f"tpcheck: {exc}", file=sys.stderr)
        return 2
    return report.exit_code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "rules":
        sys.stdout.write(_rules_text())
        return 0
    if args.command == "latex":
        return _latex(args)
    if args.command == "trust":
        return _trust(args)
    if args.command == "simulate":
        from tpcheck.simulate import main_simulate

        try:
            return main_simulate(args)
        except (TpcheckError, OSError) as exc:
            print(f"tpcheck: {exc}", file=sys.stderr)
            return 2
    options = Options(
        budget=args.budget if args.budget > 0 else None,
        witness_budget=args.witness_budget if args.witness_budget > 0 else None,
        witnesses=not args.no_witnesses,
        montecarlo_scale=args.mc_scale,
    )
    try:
        report = check(args.paths, options, require=args.require)
    except TpcheckError as exc:
        print(f"tpcheck: {exc}", file=sys.stderr)
        return 2
    to_stdout_json = args.json == "-"
    if args.json and not to_stdout_json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(report.to_json() + "\n")
    if to_stdout_json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
        print(report.to_text(colour=colour))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
